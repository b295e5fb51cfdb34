using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Generation;

/// <summary>
/// A generation's prompts enter the KV cache a chunk of positions at a time, so that what one pass holds at once (every
/// layer's activations for its token rows, and the attention scores of its queries against every earlier position)
/// stays bounded whatever the prompts' length and number. In one pass, eight 128-token prompts through Llama-3.2-1B's
/// shapes held 215 MB of activations besides the 2.47 GB checkpoint, and the fp32 scores of a 2,000-token prompt
/// through Llama-3.2-3B's 24 heads take 384 MB per copy. Keys and values are the same as one pass's; hooks see each
/// chunk at its position offset, as they see the generated tokens.
/// </summary>
internal static class ChunkedPrefill
{
    /// <summary>Token rows (prompts × positions) of one chunk. Our bf16 kernel reads the weights once per 64 rows, so smaller chunks cost no extra weight reads.</summary>
    public const int Rows = 128;

    /// <summary>Attention scores of one chunk, <c>[B, H, positions, S]</c> in fp32: 16 MB, as a block of the attention's own (<see cref="Attention.ScoreBlockElements"/>).</summary>
    public const long ScoreElements = Attention.ScoreBlockElements;

    /// <summary>Positions per chunk for <paramref name="batch"/> prompts of <paramref name="length"/> positions (the cache's included) through <paramref name="heads"/> query heads.</summary>
    public static long Positions(long batch, int heads, long length, int rows = Rows) =>
        Math.Max(1, Math.Min(rows / batch, ScoreElements / (batch * heads * length)));

    /// <summary>
    /// Runs <paramref name="ids"/> <c>[B, T]</c> with its padding mask into <paramref name="cache"/>, chunk by chunk, and
    /// returns the last chunk's result: its last position's logits. Every chunk but the last also computes its last
    /// logits, which are dropped (the output layer once per chunk, about 1 % of a chunk's work on Llama-3.2-1B's shapes).
    /// </summary>
    public static ForwardResult Run(LanguageModel model, Tensor ids, Tensor mask, ForwardOptions options, KvCache cache, int rows = Rows)
    {
        long b = ids.shape[0], t = ids.shape[1];
        // Refused before any chunk runs, rather than after the chunks that fit.
        model.CheckContext(cache.Length, t);
        long step = Positions(b, model.Config.NumHeads, cache.Length + t, rows);
        for (long start = 0; ; start += step)
        {
            long n = Math.Min(step, t - start);
            using var chunk = ids.narrow(1, start, n);
            using var chunkMask = mask.narrow(1, start, n);
            var result = model.Forward(chunk, options with { PaddingMask = chunkMask }, cache);
            if (start + n == t) return result;
            result.Dispose();
        }
    }
}
