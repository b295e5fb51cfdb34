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
    /// Runs the prompts in batches of <paramref name="batchSize"/> with <paramref name="hooks"/>, and hands each batch's
    /// last-position logits <c>[b, V]</c> with the index of its first prompt to <paramref name="onLastLogits"/>
    /// (valid only during the call). <paramref name="cancel"/> is checked before each batch; <paramref name="progress"/>
    /// counts the prompts of each batch done.
    /// </summary>
    public static void Run(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int batchSize, HookSet? hooks,
        Action<int, Tensor>? onLastLogits = null, CancellationToken cancel = default, ProgressCounter? progress = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        int pad = model.Config.PadTokenId ?? 0;
        for (int first = 0; first < prompts.Count; first += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (ids, mask) = LeftPad(prompts.Skip(first).Take(batchSize).ToList(), pad);
            using var result = model.Forward(ids, new ForwardOptions { LastPositionLogitsOnly = true, PaddingMask = mask, Hooks = hooks });
            onLastLogits?.Invoke(first, result.Logits.select(1, 0));
            progress?.Step(steps: ids.shape[0]);
        }
    }
}
