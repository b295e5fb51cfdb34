using System.Collections.Concurrent;
using TorchSharp;

namespace NotebookLens.Runtime;

/// <summary>
/// Rooted TorchSharp scalars. An implicit <c>double → Scalar</c> conversion (<c>x * 0.5</c>) makes a temporary
/// whose finalizer frees the native value; the GC may run it as soon as the native call has taken the handle,
/// while that call still reads it (seen as a rare "Expected false to be true" in <c>Scalar.toDouble</c> under
/// memory pressure). Scalars from here live as long as the process, so engine code passes these for constants
/// (norm epsilons, scales, caps); a value that changes per call is held in a <c>using</c> variable instead.
/// </summary>
internal static class Scalars
{
    static readonly ConcurrentDictionary<double, Scalar> Doubles = new();
    static readonly ConcurrentDictionary<long, Scalar> Longs = new();

    /// <summary>A float64 scalar (for floating-point tensors).</summary>
    public static Scalar Of(double value) => Doubles.GetOrAdd(value, v =>
    {
        TorchRuntime.EnsureLoaded();
        return v.ToScalar();
    });

    /// <summary>An int64 scalar (for integer tensors: positions, indices, ranges).</summary>
    public static Scalar Of(long value) => Longs.GetOrAdd(value, v =>
    {
        TorchRuntime.EnsureLoaded();
        return v.ToScalar();
    });
}
