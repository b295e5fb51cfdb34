namespace NotebookLens.Models;

/// <summary>
/// The kernels' per-thread pinned fp32 buffers (<c>[ThreadStatic]</c> fields of <see cref="Bf16MatVec"/> and
/// <see cref="F32Gemm"/>): kept from call to call, replaced by a larger one when short, and read from their first cache
/// line on.
/// </summary>
internal static unsafe class PinnedBuffer
{
    /// <summary>Floats a buffer holds beyond those asked for: the most <see cref="Aligned"/> skips.</summary>
    const int Slack = 16;

    /// <summary>
    /// <paramref name="buffer"/> if it holds <paramref name="floats"/> from its first cache line on; otherwise a new pinned
    /// one of <paramref name="size"/> floats (at least <paramref name="floats"/>), kept in <paramref name="buffer"/>.
    /// </summary>
    public static float[] AtLeast(ref float[]? buffer, long floats, long size = 0) =>
        buffer is { } kept && kept.LongLength >= floats + Slack ? kept
        : buffer = GC.AllocateUninitializedArray<float>(checked((int)(Math.Max(floats, size) + Slack)), pinned: true);

    /// <summary>The first cache-line boundary in a pinned buffer: from there, rows of whole lines are loaded without crossing two.</summary>
    public static float* Aligned(float* start) => (float*)(((nint)start + 63) & ~(nint)63);
}
