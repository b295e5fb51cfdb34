using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// Rotary position embedding in the half-split layout of Hugging Face (<c>rotate_half</c>): dimension
/// <c>i</c> pairs with <c>i + head_dim/2</c>. Frequencies and angles are computed in fp32 with the same
/// operations as the reference code, so the tables match it bit for bit at small positions.
/// </summary>
internal sealed class RotaryEmbedding : IDisposable
{
    readonly Tensor _invFreq;

    public RotaryEmbedding(RopeConfig config, int headDim)
    {
        Config = config;
        HeadDim = headDim;
        using var scope = NewDisposeScope();
        var exponents = arange(Scalars.Of(0L), Scalars.Of((long)headDim), Scalars.Of(2L), dtype: ScalarType.Int64).to(ScalarType.Float32) / Scalars.Of((double)headDim);
        var inv = full_like(exponents, Scalars.Of(config.Theta)).pow(exponents).reciprocal();
        _invFreq = Scale(inv, config).DetachFromDisposeScope();
    }

    public RopeConfig Config { get; }

    public int HeadDim { get; }

    /// <summary>The inverse frequencies after scaling, <c>[head_dim/2]</c>, fp32.</summary>
    public Tensor InverseFrequencies => _invFreq;

    static Tensor Scale(Tensor inv, RopeConfig c)
    {
        switch (c.Type)
        {
            case "default": return inv;
            case "linear": return inv / Scalars.Of(c.Factor);
            case "llama3":
                // Llama 3.1+: keep high frequencies, divide low ones by the factor, blend in between.
                // Python's `scalar / tensor` is `tensor.reciprocal() * scalar`; keep that rounding.
                var wavelen = inv.reciprocal() * Scalars.Of(2 * Math.PI);
                double lowWavelen = c.OriginalMaxPositions / c.LowFreqFactor;
                double highWavelen = c.OriginalMaxPositions / c.HighFreqFactor;
                var scaled = where(wavelen > Scalars.Of(lowWavelen), inv / Scalars.Of(c.Factor), inv);
                var smooth = Scalars.Plus(wavelen.reciprocal() * Scalars.Of((double)c.OriginalMaxPositions), -c.LowFreqFactor) / Scalars.Of(c.HighFreqFactor - c.LowFreqFactor);
                var blended = (Scalars.Of(1.0) - smooth) * scaled / Scalars.Of(c.Factor) + smooth * scaled;
                var medium = (wavelen >= Scalars.Of(highWavelen)).logical_and(wavelen <= Scalars.Of(lowWavelen));
                return where(medium, blended, scaled);
            default: throw new NotSupportedException($"RoPE type '{c.Type}' is not supported.");
        }
    }

    /// <summary>The half tables <c>cos(pos * inv_freq)</c>, <c>sin(...)</c> for positions <c>[..., T]</c>: <c>[..., T, head_dim/2]</c>, fp32.</summary>
    public (Tensor Cos, Tensor Sin) HalfTables(Tensor positions)
    {
        using var scope = NewDisposeScope();
        var angles = positions.to(ScalarType.Float32).unsqueeze(-1) * _invFreq.to(positions.device);
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Full cos/sin tables for positions <c>[B, T]</c>, shaped <c>[B, T, 1, head_dim]</c> to broadcast over heads, in <paramref name="dtype"/>.</summary>
    public RopeTables Tables(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (cos, sin) = HalfTables(positions);
        // HF concatenates the half table with itself and casts to the activation dtype before rotating.
        var c = cat([cos, cos], -1).unsqueeze(2).to(dtype);
        var s = cat([sin, sin], -1).unsqueeze(2).to(dtype);
        return new RopeTables(c.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope());
    }

    public void Dispose() => _invFreq.Dispose();
}

/// <summary>Rotary tables for one forward pass, <c>[B, T, 1, head_dim]</c>.</summary>
internal sealed record RopeTables(Tensor Cos, Tensor Sin) : IDisposable
{
    /// <summary>Rotates <c>x [B, T, heads, head_dim]</c>: <c>x * cos + rotate_half(x) * sin</c>.</summary>
    public Tensor Apply(Tensor x)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        // Scalars.Plus: the tensor + passes a temporary alpha the GC may free during the call (a fresh-clone test run
        // failed here with "Expected false to be true" in Scalar::toBFloat16).
        return Scalars.Plus(x * Cos, rotated * Sin).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Cos.Dispose();
        Sin.Dispose();
    }
}
