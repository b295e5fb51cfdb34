using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Generation;

/// <summary>
/// Prompts of different lengths run together: left-padded so every row ends at the last column, which is
/// where the next token is predicted and where template tokens counted from the end line up.
/// </summary>
internal static class PromptBatch
{
    /// <summary>Ids <c>[B, T]</c> (padding first) and the padding mask <c>[B, T]</c> (true for real tokens).</summary>
    public static (Tensor Ids, Tensor Mask) LeftPad(IReadOnlyList<IReadOnlyList<int>> prompts, int padId)
    {
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("Every prompt needs at least one token (a BOS token will do).", nameof(prompts));
        int batch = prompts.Count, longest = prompts.Max(p => p.Count);
        var ids = new long[batch * longest];
        var real = new bool[batch * longest];
        for (int r = 0; r < batch; r++)
        {
            int offset = longest - prompts[r].Count;
            for (int j = 0; j < longest; j++)
            {
                ids[r * longest + j] = j < offset ? padId : prompts[r][j - offset];
                real[r * longest + j] = j >= offset;
            }
        }
        return (tensor(ids).view(batch, longest), tensor(real).view(batch, longest));
    }

    /// <summary>
    /// Runs the prompts in batches of <paramref name="batchSize"/> and hands each batch's last-position logits
    /// <c>[b, V]</c> with the index of its first prompt to <paramref name="onLastLogits"/> (valid only during the call).
    /// The tokens every prompt starts with (a chat template's header, a system message) run once, with the
    /// <paramref name="interventions"/>, into a KV cache each batch continues: on Llama 3.2's template, more than half of
    /// each prompt. <paramref name="probes"/> run on the rest only, which keeps at least <paramref name="keep"/> tokens
    /// of every prompt. <paramref name="cancel"/> is checked before each batch; <paramref name="progress"/> counts the
    /// prompts done. Hooks see the prefix at positions 0 .. P−1 and each row's rest after it, left-padded.
    /// </summary>
    public static void Run(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int batchSize, HookSet? interventions,
        Action<int, Tensor>? onLastLogits = null, CancellationToken cancel = default, ProgressCounter? progress = null,
        HookSet? probes = null, int keep = 1)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        cancel.ThrowIfCancellationRequested();
        int shared = SharedPrefix(prompts, keep);
        using var prefix = Prefix(model, prompts, shared, interventions);
        var hooks = (interventions ?? HookSet.Empty).Then(probes ?? HookSet.Empty);
        for (int first = 0; first < prompts.Count; first += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (count, ids, mask) = Batch(model, prompts, first, batchSize, shared);
            using var cache = prefix?.ForOnePass(count);
            using var result = model.Forward(ids, new ForwardOptions { LastPositionLogitsOnly = true, PaddingMask = mask, Hooks = hooks }, cache);
            onLastLogits?.Invoke(first, result.Logits.select(1, 0));
            progress?.Step(steps: count);
        }
    }

    /// <summary>
    /// The batch of <see cref="Run"/> that starts at prompt <paramref name="first"/>: how many prompts it has, and their
    /// rests after the <paramref name="shared"/> prefix tokens, left-padded (ids and mask).
    /// </summary>
    public static (int Count, Tensor Ids, Tensor Mask) Batch(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int first, int batchSize, int shared)
    {
        var rows = prompts.Skip(first).Take(batchSize).ToList();
        var (ids, mask) = LeftPad(Rests(rows, shared), model.Config.PadTokenId ?? 0);
        return (rows.Count, ids, mask);
    }

    /// <summary>How many leading tokens all prompts share, leaving each at least <paramref name="keep"/> of its own.</summary>
    public static int SharedPrefix(IReadOnlyList<IReadOnlyList<int>> prompts, int keep = 1)
    {
        if (prompts.Count == 0) return 0;
        int limit = prompts.Min(p => p.Count) - keep, n = 0;
        while (n < limit && prompts.All(p => p[n] == prompts[0][n])) n++;
        return Math.Max(0, n);
    }

    /// <summary>The first <paramref name="length"/> tokens of the prompts (the same in all), run once with the interventions into a one-row cache; null for none.</summary>
    public static KvCache? Prefix(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int length, HookSet? interventions)
    {
        if (length == 0) return null;
        var cache = new KvCache(model.Config.NumLayers);
        try
        {
            using var scope = NewDisposeScope();
            using var ids = tensor(prompts[0].Take(length).Select(i => (long)i).ToArray(), device: model.Device);
            using var _ = model.Forward(ids, new ForwardOptions { LastPositionLogitsOnly = true, Hooks = interventions }, cache);
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>Each prompt without its first <paramref name="shared"/> tokens.</summary>
    static IReadOnlyList<IReadOnlyList<int>> Rests(IReadOnlyList<IReadOnlyList<int>> prompts, int shared) =>
        shared == 0 ? prompts : prompts.Select(p => (IReadOnlyList<int>)p.Skip(shared).ToList()).ToList();
}
