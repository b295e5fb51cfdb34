using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>The decode step's attention in one call, held to the eager path's formula computed in float64 with its bf16 roundings.</summary>
public class DecodeAttentionTests
{
    public DecodeAttentionTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(1, 32, 8, 64, 160, false)] // Llama-3.2-1B's heads after a 160-token prompt
    [InlineData(2, 4, 4, 16, 37, false)] // one query head a kv head; positions past the last block of eight
    [InlineData(2, 6, 2, 40, 9, true)] // three query heads a kv head, a head size that is not whole 32-column blocks, one mask for both rows
    [InlineData(1, 8, 4, 256, 8, false)] // Gemma 3 4B's head size
    [InlineData(3, 4, 1, 8, 1, false)] // the first position
    [InlineData(1, 32, 8, 64, 1100, false)] // enough work for every thread
    public void Equals_the_eager_formula_computed_exactly(int batch, int heads, int kvHeads, int headDim, int positions, bool sharedMask)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(batch * 1000 + heads * 100 + positions));
        var q = (randn([batch, 1, heads, headDim], generator: generator) * 2).to(ScalarType.BFloat16);
        // Keys and values as the cache holds them: views of a longer storage, rows contiguous, heads apart.
        var keys = (randn([batch, kvHeads, positions + 5, headDim], generator: generator) * 2).to(ScalarType.BFloat16).narrow(2, 0, positions);
        var values = randn([batch, kvHeads, positions + 5, headDim], generator: generator).to(ScalarType.BFloat16).narrow(2, 0, positions);
        var mask = zeros(sharedMask ? 1 : batch, 1, 1, positions);
        if (!sharedMask && batch > 1 && positions > 3) mask[1, .., .., ..3] = float.MinValue; // the second row's left padding
        double scale = 0.7 / Math.Sqrt(headDim); // not a power of two: a rounding missed before or after the scale shows
        Assert.True(DecodeAttention.Applies(q, keys, values, softcap: null));

        var ours = DecodeAttention.Attend(q, keys, values, mask, scale);
        Assert.Equal(q.shape, ours.shape);
        Assert.Equal(ScalarType.BFloat16, ours.dtype);

        // Independent: products and sums in float64; rounded to bf16 where transformers' eager path rounds.
        int group = heads / kvHeads;
        var dots = q.to(ScalarType.Float64).view(batch, kvHeads, group, headDim).matmul(keys.to(ScalarType.Float64).transpose(-2, -1));
        var raw = dots.to(ScalarType.Float32).to(ScalarType.BFloat16);
        var scaled = (raw.to(ScalarType.Float32) * (float)scale).to(ScalarType.BFloat16);
        var scores = scaled.to(ScalarType.Float64) + mask.to(ScalarType.Float64).view(mask.shape[0], 1, 1, positions);
        var probabilities = scores.softmax(-1).to(ScalarType.Float32).to(ScalarType.BFloat16);
        var expected = probabilities.to(ScalarType.Float64).matmul(values.to(ScalarType.Float64)).to(ScalarType.Float32).to(ScalarType.BFloat16)
            .view(batch, 1, heads, headDim);
        var ulps = Bf16Ulps.Between(ours, expected);
        // fp32 sums in another order than float64's: a score, probability or output next to a bf16 rounding boundary may
        // round to its neighbour and move an output by a step; nothing more.
        Assert.True(ulps.Max() <= 1, $"max {ulps.Max()} bf16 ulps from the exact attention");
        Assert.True(ulps.Count(u => u == 0) >= 0.99 * ulps.Length, $"{ulps.Count(u => u != 0)} of {ulps.Length} outputs differ from the exact attention");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")] // a sliding window of 4 positions: its mask
    public void A_bf16_decode_step_gives_the_logits_of_the_eager_path(string name)
    {
        // A hook on every attention pattern sends the steps down the eager path; without hooks they take the one call.
        using var model = LanguageModel.Load(name == "llama" ? Fixtures.Llama : Fixtures.Gemma);
        Assert.Equal(ScalarType.BFloat16, model.DType);
        int seen = 0;
        var patterns = new HookSet().Add(HookPoints.IsAttentionMap, (a, _) => { if (a.shape[2] == 1) seen++; return null; });
        using var fused = new KvCache(model.Config.NumLayers);
        using var eager = new KvCache(model.Config.NumLayers);
        using var scope = NewDisposeScope();
        var ids = randint(0, model.Config.VocabSize, [2, 12], generator: new TorchSharp.torch.Generator(5));
        var padding = ones(2, 6, dtype: ScalarType.Bool);
        padding[1, ..2] = false; // the second row's prompt is two tokens shorter: left padding
        model.Forward(ids[.., ..6], new ForwardOptions { PaddingMask = padding }, fused);
        model.Forward(ids[.., ..6], new ForwardOptions { PaddingMask = padding, Hooks = patterns }, eager);
        for (int i = 6; i < 12; i++)
        {
            var step = ids[.., i..(i + 1)];
            var ours = model.Forward(step, cache: fused).Logits;
            var reference = model.Forward(step, new ForwardOptions { Hooks = patterns }, eager).Logits;
            var ulps = Bf16Ulps.Between(ours, reference);
            Assert.True(ulps.Count(u => u == 0) >= 0.95 * ulps.Length, $"step {i}: {ulps.Count(u => u != 0)} of {ulps.Length} logits differ from the eager path's");
            TensorAssert.Close(ours, reference, 0.02, 0.02, $"step {i}");
        }
        Assert.Equal(6 * model.Config.NumLayers * 2, seen); // every step's scores and pattern, in every layer
    }

    [Fact]
    public void Applies_to_one_new_bf16_position_without_a_soft_cap()
    {
        using var scope = NewDisposeScope();
        var q = zeros(2, 1, 4, 16, dtype: ScalarType.BFloat16);
        var cache = zeros(2, 2, 9, 16, dtype: ScalarType.BFloat16);
        Assert.Equal(Bf16MatVec.Supported, DecodeAttention.Applies(q, cache, cache, softcap: null));
        Assert.False(DecodeAttention.Applies(q, cache, cache, softcap: 50.0)); // Gemma 2's capped scores: the eager path
        Assert.False(DecodeAttention.Applies(zeros(2, 3, 4, 16, dtype: ScalarType.BFloat16), cache, cache, softcap: null)); // a prompt
        Assert.False(DecodeAttention.Applies(q.to(ScalarType.Float32), cache.to(ScalarType.Float32), cache.to(ScalarType.Float32), softcap: null));
        Assert.False(DecodeAttention.Applies(zeros(2, 1, 4, 12, dtype: ScalarType.BFloat16), zeros(2, 2, 9, 12, dtype: ScalarType.BFloat16), zeros(2, 2, 9, 12, dtype: ScalarType.BFloat16), softcap: null));
        Assert.False(DecodeAttention.Applies(q, cache, cache.transpose(2, 3).contiguous().transpose(2, 3), softcap: null)); // values by column
        Assert.False(DecodeAttention.Applies(q.clone().requires_grad_(true), cache, cache, softcap: null));
    }

    [Fact]
    public void The_softmax_exponential_is_within_two_fp32_ulps_of_the_libraries_and_zero_below_the_normal_range()
    {
        // Held to MathF.Exp (the C library's expf) over every x ≤ 0 it takes: a dense sweep and random values.
        var random = new Random(3);
        var xs = Enumerable.Range(0, 200_000).Select(i => -87.3f * i / 200_000f).Concat(Enumerable.Range(0, 50_000).Select(_ => -(float)random.NextDouble() * 87.3f)).ToArray();
        int worst = 0;
        for (int i = 0; i + 8 <= xs.Length; i += 8)
        {
            var ours = DecodeAttention.Exp(System.Runtime.Intrinsics.Vector256.Create(xs, i));
            for (int k = 0; k < 8; k++)
                worst = Math.Max(worst, Math.Abs(BitConverter.SingleToInt32Bits(ours[k]) - BitConverter.SingleToInt32Bits(MathF.Exp(xs[i + k]))));
        }
        Assert.True(worst <= 2, $"{worst} fp32 ulps from MathF.Exp");
        Assert.Equal(1f, DecodeAttention.Exp(System.Runtime.Intrinsics.Vector256<float>.Zero)[0]);
        // A masked position (-∞, or the most negative float) and anything whose exponential leaves the normal range: 0.
        var below = DecodeAttention.Exp(System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity, float.MinValue, -1e30f, -1000f, -100f, -88f, -87.5f, -87.34f));
        for (int k = 0; k < 8; k++) Assert.Equal(0f, below[k]);
    }
}
