using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Tests.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Generation;

public sealed class ChunkedPrefillTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    [Fact]
    public void A_chunk_is_the_most_positions_within_both_budgets()
    {
        foreach (int rows in new[] { 3, 128 })
        foreach (long batch in new long[] { 1, 2, 5, 8, 16 })
        foreach (int heads in new[] { 4, 24, 32 })
        foreach (long length in new long[] { 1, 7, 128, 1000, 4000, 200_000 })
        {
            long p = ChunkedPrefill.Positions(batch, heads, length, rows);
            bool Fits(long positions) => batch * positions <= rows && batch * heads * positions * length * sizeof(float) <= 16L << 20;
            string at = $"batch {batch}, heads {heads}, length {length}, rows {rows}";
            Assert.True(p >= 1, at);
            Assert.True(p == 1 || Fits(p), $"{at}: {p} positions exceed a budget");
            Assert.False(Fits(p + 1), $"{at}: {p + 1} positions would fit too");
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Prompts_in_chunks_leave_the_logits_and_the_cache_of_one_pass(string name)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var prompts = Enumerable.Range(0, 3).Select(p => (IReadOnlyList<int>)golden[$"input_ids.{p}"].data<long>().Select(x => (int)x).ToArray()).ToList();
        var (ids, mask) = PromptBatch.LeftPad(prompts, 0);
        long t = ids.shape[1];
        var options = new ForwardOptions { LastPositionLogitsOnly = true };
        using var whole = new KvCache(model.Config.NumLayers);
        using var oneLogits = model.Forward(ids, options with { PaddingMask = mask }, whole);

        // Two positions per chunk: the last is shorter when the prompts' width is odd. Hooks see each chunk at its offset.
        var chunks = new List<(long Width, long Offset)>();
        var watch = new HookSet().Add(HookPoints.Embed, (x, ctx) => { chunks.Add((x.shape[1], ctx.PositionOffset)); return null; });
        using var chunked = new KvCache(model.Config.NumLayers);
        using var chunkLogits = ChunkedPrefill.Run(model, ids, mask, options with { Hooks = watch }, chunked, rows: 2 * prompts.Count);
        var expected = Enumerable.Range(0, (int)((t + 1) / 2)).Select(c => (Math.Min(2L, t - 2 * c), 2L * c));
        Assert.Equal(expected, chunks);
        TensorAssert.Close(chunkLogits.Logits, oneLogits.Logits, 1e-4, 1e-4, "last logits");

        // The caches hold the same keys and values: the next token gets the same logits from both.
        Assert.Equal(whole.Length, chunked.Length);
        using var next = tensor(new long[] { 5, 6, 7 }).view(3, 1);
        using var fromWhole = model.Forward(next, cache: whole);
        using var fromChunks = model.Forward(next, cache: chunked);
        TensorAssert.Close(fromChunks.Logits, fromWhole.Logits, 1e-4, 1e-4, "next step");
    }
}
