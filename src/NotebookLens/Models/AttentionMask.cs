using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>The causal (optionally sliding-window) attention mask of a forward pass.</summary>
internal static class AttentionMask
{
    /// <summary>
    /// Additive fp32 mask <c>[B, 1, T, S]</c> for the padding mask <c>[B, S]</c> of every position so far: query
    /// <c>past + i</c> sees key <c>j</c> when j ≤ past + i, key j is not padding, and (with a window w) key j's position
    /// is within w − 1 of the query's. Positions count real tokens only, so padding anywhere in a row (after a shared
    /// prompt prefix, see PromptBatch) does not narrow the window.
    /// Hidden entries get float.MinValue rather than -inf, as transformers does, so a row with nothing visible
    /// (a padding query) stays finite instead of NaN. On the padding mask's device.
    /// </summary>
    public static Tensor Additive(Tensor padding, long past, long t, int? window)
    {
        using var scope = NewDisposeScope();
        var device = padding.device;
        long s = padding.shape[1];
        // Per-call values: `using` keeps the scalars alive across the native calls (see Scalars).
        using Scalar from = past, to = past + t, keys = s;
        var q = arange(from, to, Scalars.Of(1L), device: device).unsqueeze(1);
        var k = arange(Scalars.Of(0L), keys, Scalars.Of(1L), device: device).unsqueeze(0);
        var visible = (k <= q).unsqueeze(0).logical_and(padding.unsqueeze(1));
        if (window is int w)
        {
            var positions = Scalars.Plus(padding.to(ScalarType.Int64).cumsum(1), -1L); // [B, S]
            var queries = positions.narrow(1, past, t).unsqueeze(2);
            visible = visible.logical_and(positions.unsqueeze(1) > Scalars.Plus(queries, -(long)w));
        }
        var mask = zeros([padding.shape[0], t, s], dtype: ScalarType.Float32, device: device)
            .masked_fill(visible.logical_not(), Scalars.Of((double)float.MinValue));
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }
}
