using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>The forward pass: ids checked, embedded, run through every block with the hooks and the KV cache, unembedded.</summary>
public abstract partial class LanguageModel
{
    /// <summary>
    /// Runs token ids <c>[T]</c> or <c>[B, T]</c> through the model. With a <paramref name="cache"/>, the ids
    /// continue the cached positions and their keys and values are added to it.
    /// </summary>
    public ForwardResult Forward(Tensor inputIds, ForwardOptions? options = null, KvCache? cache = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= ForwardOptions.Default;
        foreach (var name in options.Hooks?.Names ?? []) HookPoints.Validate(name, Config);
        CheckCache(cache);
        // Disposed last, after the pass's activations: the blocks they leave free in the heap are handed back then.
        using var heap = NativeHeap.ReuseBlocks();
        using var noGrad = options.RecordGradients ? null : no_grad();
        using var scope = NewDisposeScope();
        var ids = CheckIds(inputIds);
        long b = ids.shape[0], t = ids.shape[1];
        CheckContext(cache?.Length ?? 0, t);
        var h = Embeddings.index_select(0, ids.reshape(-1)).view(b, t, Config.HiddenSize);
        // Gemma rounds the scale to the activation dtype before multiplying (sqrt(3072) -> 55.5 in bf16).
        if (EmbeddingScale is double scale) h = h * tensor(scale, dtype: DType, device: Device);
        return RunBlocks(h, 0, options, cache, fromEmbedding: true);
    }

    /// <summary>
    /// Runs blocks <paramref name="layer"/> .. L−1, the final norm and the head on <paramref name="residual"/> <c>[T, D]</c>
    /// or <c>[B, T, D]</c>, the input of block <paramref name="layer"/> (<c>blocks.{layer}.hook_resid_pre</c>, before its
    /// hooks run), as TransformerLens's <c>start_at_layer</c>: what lies below is not computed again (the refusal
    /// experiment steers many times from one pass). Hooks of earlier layers and of the embedding do not run; the padding
    /// mask must be the one the residual stream was computed with. With a <paramref name="cache"/> (a prompt prefix
    /// computed once for a batch), the residual stream continues the cached positions, as in <see cref="Forward"/>; the
    /// blocks below <paramref name="layer"/> neither read nor extend it. The logits only: read other activations with hooks.
    /// </summary>
    public ForwardResult ForwardFrom(int layer, Tensor residual, ForwardOptions? options = null, KvCache? cache = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= ForwardOptions.Default;
        Ranges.Check(layer, Config.NumLayers, "layer");
        if (options.HiddenStates || options.Attentions)
            throw new ArgumentException("ForwardFrom keeps the logits only; read hidden states and attention patterns with hooks.", nameof(options));
        if (residual.dim() is not (2 or 3) || residual.shape[^1] != Config.HiddenSize || residual.shape[^2] == 0)
            throw new ArgumentException($"The residual stream must be [T, {Config.HiddenSize}] or [B, T, {Config.HiddenSize}] with T > 0, not [{string.Join(", ", residual.shape)}].", nameof(residual));
        foreach (var name in options.Hooks?.Names ?? []) HookPoints.Validate(name, Config);
        CheckCache(cache);
        CheckContext(cache?.Length ?? 0, residual.shape[^2]);
        using var heap = NativeHeap.ReuseBlocks();
        using var noGrad = options.RecordGradients ? null : no_grad();
        using var scope = NewDisposeScope();
        var h = residual.dim() == 2 ? residual.unsqueeze(0) : residual;
        return RunBlocks(h.to(DType, Device), layer, options, cache, fromEmbedding: false);
    }

    /// <summary>
    /// Blocks from <paramref name="firstLayer"/> on, with the hooks and the cache, then the final norm and the head;
    /// <paramref name="fromEmbedding"/>: <paramref name="h"/> is the embedding output, which the embedding hook sees first.
    /// </summary>
    ForwardResult RunBlocks(Tensor h, int firstLayer, ForwardOptions options, KvCache? cache, bool fromEmbedding)
    {
        long b = h.shape[0], t = h.shape[1];
        long past = cache?.Length ?? 0;
        var padding = PaddingMask(options.PaddingMask, b, t);
        // Every real token of a row, cached ones included, counts one position; padding does not.
        var allPadding = cache?.PaddingMask is { } cached ? cat([cached, padding], 1) : padding;
        var positions = Scalars.Plus(allPadding.to(ScalarType.Int64).cumsum(1), -1L).clamp_min(Scalars.Of(0L)).narrow(1, past, t);
        var hooks = options.Hooks ?? HookSet.Empty;
        long layers = Config.NumLayers - firstLayer;
        // Sized only for passes that keep something: a decode step keeps nothing, and runs every few milliseconds.
        using var kept = options.RecordGradients || !(options.HiddenStates || options.Attentions) ? KeptOutputs.None : KeptOutputs.For(
        [
            (ScalarType.Float32, options.Attentions ? layers * b * Config.NumHeads * t * (past + t) : 0),
            // The embedding output, every layer's, and the final norm's.
            (DType, options.HiddenStates ? (layers + 2) * b * t * Config.HiddenSize : 0),
        ], Device);
        using var ctx = new ForwardContext
        {
            GlobalRope = _rope.Tables(positions, DType),
            LocalRope = _localRope?.Tables(positions, DType),
            GlobalMask = AttentionMask.Additive(allPadding, past, t, null),
            SlidingMask = Config.SlidingWindow is int w && Config.SlidingLayers.Any(s => s) ? AttentionMask.Additive(allPadding, past, t, w) : null,
            KeepAttentionWeights = options.Attentions,
            Kept = kept,
            Hooks = hooks,
            Cache = cache,
            PositionOffset = past,
        };
        if (fromEmbedding) h = ctx.Hook(HookPoints.Embed, null, h);

        var hidden = options.HiddenStates ? new List<Tensor> { kept.Keep(h, release: false) } : null;
        var attentions = new List<Tensor>();
        // Unless they are kept or a hook may hold one, each layer's input is freed once its output exists: a long prompt's
        // residual streams add up (2,000 tokens through Llama-3.2-3B's 28 layers: 350 MB in bf16). Kept ones are copied
        // into the pass's block, and the copy goes on.
        bool release = hidden is null && hooks.IsEmpty;
        foreach (var block in _blocks.Skip(firstLayer))
        {
            var input = h;
            h = block.Forward(h, ctx, out var weights);
            if (weights is not null) attentions.Add(weights);
            if (hidden is not null) hidden.Add(h = kept.Keep(h, release: hooks.IsEmpty));
            if (release) input.Dispose();
        }
        cache?.Advance(padding);
        var final = ctx.Hook(HookPoints.FinalNorm, null, FinalNorm.Forward(h));
        if (hidden is not null) hidden[^1] = final = kept.Keep(final, release: hooks.IsEmpty);

        // contiguous: a strided view sends a bfloat16 matmul down a path ~100x slower than a packed one.
        var head = options.LastPositionLogitsOnly ? final.narrow(1, t - 1, 1).contiguous() : final;
        var logits = HeadLogits(head);

        return new ForwardResult
        {
            Logits = logits.MoveToOuterDisposeScope(),
            HiddenStates = hidden?.Select(x => x.MoveToOuterDisposeScope()).ToList(),
            PrenormLast = options.HiddenStates ? h.MoveToOuterDisposeScope() : null,
            Attentions = options.Attentions ? attentions.Select(x => x.MoveToOuterDisposeScope()).ToList() : null,
        };
    }

    /// <summary>
    /// Logits of residual-stream vectors <c>[..., D]</c>: the final norm (optional; recomputed for these vectors), the LM
    /// head and Gemma's logit soft-cap — what the last layer's output goes through. The logit lens reads every layer this
    /// way. The result belongs to the caller's dispose scope. Gradients are recorded when the vectors or the weights
    /// ask for them (training's logit-lens loss, <c>LatentEnglish</c>), as in any TorchSharp computation.
    /// </summary>
    public Tensor Unembed(Tensor resid, bool applyFinalNorm = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (resid.shape[^1] != Config.HiddenSize)
            throw new ArgumentException($"Residual vectors have {Config.HiddenSize} entries in this model, not {resid.shape[^1]}.", nameof(resid));
        using var scope = NewDisposeScope();
        var x = resid.to(DType, Device);
        return HeadLogits(applyFinalNorm ? FinalNorm.Forward(x) : x).MoveToOuterDisposeScope();
    }

    Tensor HeadLogits(Tensor normed)
    {
        var logits = Models.Linear.Project(normed, LmHead, kept: true);
        return Config.FinalLogitSoftcapping is double cap ? (logits / Scalars.Of(cap)).tanh() * Scalars.Of(cap) : logits;
    }

    void CheckCache(KvCache? cache)
    {
        if (cache is not null && cache.Layers != Config.NumLayers)
            throw new ArgumentException($"The KV cache has {cache.Layers} layers but the model has {Config.NumLayers}.", nameof(cache));
    }

    internal void CheckContext(long past, long t)
    {
        if (past + t > Config.MaxPositions)
            throw new LensException(LensErrorKind.OutOfRange,
                $"{past + t} positions{(past > 0 ? $" ({past} cached and {t} new)" : "")} exceed this model's context of {Config.MaxPositions} tokens.",
                "Shorten the prompt.", "prompt");
    }

    Tensor PaddingMask(Tensor? mask, long b, long t)
    {
        if (mask is null) return ones([b, t], dtype: ScalarType.Bool, device: Device);
        if (mask.dim() == 1) mask = mask.unsqueeze(0);
        if (mask.shape[0] != b || mask.shape[1] != t)
            throw new ArgumentException($"The padding mask has shape [{string.Join(", ", mask.shape)}] but the ids are [{b}, {t}].");
        return mask.to(ScalarType.Bool, Device);
    }

    Tensor CheckIds(Tensor inputIds)
    {
        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"Token ids must be an integer tensor, not {DTypes.Name(inputIds.dtype)}.");
        if (inputIds.dim() is not (1 or 2) || inputIds.shape[^1] == 0)
            throw new ArgumentException($"Token ids must be [T] or [B, T] with T > 0, not [{string.Join(", ", inputIds.shape)}].");
        long min = inputIds.min().item<long>(), max = inputIds.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(inputIds),
                $"Token id {(min < 0 ? min : max)} is outside this model's vocabulary (0 .. {Config.VocabSize - 1}).");
        var ids = inputIds.to(ScalarType.Int64, Device);
        return ids.dim() == 1 ? ids.unsqueeze(0) : ids;
    }
}
