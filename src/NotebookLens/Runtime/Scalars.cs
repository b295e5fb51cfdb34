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

    /// <summary>
    /// <c>x + value</c> with both scalars rooted: TorchSharp's <c>x + scalar</c> and <c>x - scalar</c> pass a temporary
    /// <c>alpha = 1</c> scalar that the GC may free during the native call (seen as "Expected false to be true" in
    /// <c>Scalar::toFloat</c> under <c>add</c>).
    /// </summary>
    public static TorchSharp.torch.Tensor Plus(TorchSharp.torch.Tensor x, double value) => x.add(Of(value), Of(1.0));

    /// <inheritdoc cref="Plus(TorchSharp.torch.Tensor, double)"/>
    public static TorchSharp.torch.Tensor Plus(TorchSharp.torch.Tensor x, long value) => x.add(Of(value), Of(1L));

    /// <summary>
    /// <c>x + y</c> with a rooted <c>alpha = 1</c>: TorchSharp's tensor <c>+</c> passes a temporary one too (its tensor
    /// <c>-</c> passes none). Used where it runs most: the residual adds of every block and the steering hooks.
    /// </summary>
    public static TorchSharp.torch.Tensor Plus(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor y) => x.add(y, Of(1L));
}
