using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLens.Models;

/// <summary>A linear layer's weight <c>[out, in]</c> and optional bias, as transformers stores them.</summary>
public sealed record Linear(Tensor Weight, Tensor? Bias)
{
    public Tensor Forward(Tensor x) => F.linear(x, Weight, Bias);
}

/// <summary>RMSNorm over the last dimension, computed in fp32.</summary>
/// <param name="OffsetWeight">Gemma stores <c>w</c> and multiplies by <c>1 + w</c>; Llama multiplies by <c>w</c>.</param>
public sealed record RmsNorm(Tensor Weight, double Eps, bool OffsetWeight)
{
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.to(ScalarType.Float32);
        var normed = xf * (xf.pow(2).mean([-1], keepdim: true) + Eps).rsqrt();
        // Each family's own rounding: Gemma scales in fp32 then casts; Llama casts then scales in the weight dtype.
        var y = OffsetWeight
            ? (normed * (Weight.to(ScalarType.Float32) + 1.0)).to(x.dtype)
            : Weight * normed.to(x.dtype);
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>The gated MLP of both families: <c>down(act(gate(x)) * up(x))</c>. Its hidden activations are the neurons.</summary>
public sealed record GatedMlp(Linear Gate, Linear Up, Linear Down, string Activation)
{
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gate = Gate.Forward(x);
        var act = Activation switch
        {
            "silu" => F.silu(gate),
            "gelu_pytorch_tanh" => F.gelu(gate, TorchSharp.Modules.GELU.Approximate.tanh),
            "gelu" => F.gelu(gate),
            _ => throw new NotSupportedException($"Activation '{Activation}' is not supported."),
        };
        return Down.Forward(act * Up.Forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>What every layer of one forward pass shares: rotary tables and additive masks.</summary>
public sealed class ForwardContext : IDisposable
{
    public required RopeTables GlobalRope { get; init; }
    public RopeTables? LocalRope { get; init; }
    /// <summary>Additive fp32 mask <c>[B or 1, 1, T, S]</c> of full-attention layers: 0 where visible, -inf where not.</summary>
    public required Tensor GlobalMask { get; init; }
    public Tensor? SlidingMask { get; init; }
    public bool KeepAttentionWeights { get; init; }

    public void Dispose()
    {
        GlobalRope.Dispose();
        LocalRope?.Dispose();
        GlobalMask.Dispose();
        SlidingMask?.Dispose();
    }
}

/// <summary>
/// Multi-head attention with grouped key/value heads, optional q/k RMSNorm (Gemma 3, before RoPE),
/// optional logit soft-capping, and the eager softmax path so the probabilities can be returned.
/// </summary>
public sealed class Attention
{
    public required Linear Q { get; init; }
    public required Linear K { get; init; }
    public required Linear V { get; init; }
    public required Linear O { get; init; }
    public RmsNorm? QNorm { get; init; }
    public RmsNorm? KNorm { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double Scale { get; init; }
    public double? Softcap { get; init; }
    public required bool Sliding { get; init; }

    /// <summary>Returns the attention output <c>[B, T, D]</c>; <paramref name="weights"/> gets <c>[B, H, T, S]</c> fp32 probabilities when asked for.</summary>
    public Tensor Forward(Tensor x, ForwardContext ctx, out Tensor? weights)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = Q.Forward(x).view(b, t, NumHeads, HeadDim).transpose(1, 2);
        var k = K.Forward(x).view(b, t, NumKeyValueHeads, HeadDim).transpose(1, 2);
        var v = V.Forward(x).view(b, t, NumKeyValueHeads, HeadDim).transpose(1, 2);
        if (QNorm is not null) q = QNorm.Forward(q);
        if (KNorm is not null) k = KNorm.Forward(k);
        var rope = Sliding ? ctx.LocalRope ?? ctx.GlobalRope : ctx.GlobalRope;
        q = rope.Apply(q);
        k = rope.Apply(k);
        int groups = NumHeads / NumKeyValueHeads;
        if (groups > 1)
        {
            // KV head j serves query heads j*groups .. j*groups+groups-1.
            k = k.repeat_interleave(groups, 1);
            v = v.repeat_interleave(groups, 1);
        }
        var scores = q.matmul(k.transpose(-2, -1)) * Scale;
        if (Softcap is double cap) scores = (scores / cap).tanh() * cap;
        var mask = Sliding ? ctx.SlidingMask ?? ctx.GlobalMask : ctx.GlobalMask;
        var probs = (scores.to(ScalarType.Float32) + mask).softmax(-1);
        var context = probs.to(x.dtype).matmul(v).transpose(1, 2).reshape(b, t, NumHeads * HeadDim);
        var output = O.Forward(context).MoveToOuterDisposeScope();
        weights = ctx.KeepAttentionWeights ? probs.MoveToOuterDisposeScope() : null;
        return output;
    }
}

/// <summary>One decoder layer. Llama is pre-norm; Gemma 3 also normalises each sublayer's output ("sandwich").</summary>
public sealed class DecoderBlock
{
    public required int Index { get; init; }
    public required RmsNorm InputNorm { get; init; }
    public required Attention Attention { get; init; }
    public required RmsNorm PostAttentionNorm { get; init; }
    public required GatedMlp Mlp { get; init; }
    /// <summary>Gemma 3 only: the norm before the MLP (in Llama, <see cref="PostAttentionNorm"/> plays that role).</summary>
    public RmsNorm? PreFeedforwardNorm { get; init; }
    /// <summary>Gemma 3 only: the norm of the MLP's output.</summary>
    public RmsNorm? PostFeedforwardNorm { get; init; }

    bool Sandwich => PreFeedforwardNorm is not null;

    public Tensor Forward(Tensor h, ForwardContext ctx, out Tensor? attentionWeights)
    {
        using var scope = NewDisposeScope();
        var attn = Attention.Forward(InputNorm.Forward(h), ctx, out attentionWeights);
        attentionWeights?.MoveToOuterDisposeScope();
        if (Sandwich)
        {
            h = h + PostAttentionNorm.Forward(attn);
            h = h + PostFeedforwardNorm!.Forward(Mlp.Forward(PreFeedforwardNorm!.Forward(h)));
        }
        else
        {
            h = h + attn;
            h = h + Mlp.Forward(PostAttentionNorm.Forward(h));
        }
        return h.MoveToOuterDisposeScope();
    }
}
