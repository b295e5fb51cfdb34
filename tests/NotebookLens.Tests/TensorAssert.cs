using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Tests;

public static class TensorAssert
{
    /// <summary>Asserts same dtype, shape and values (bit-identical for floats without NaN).</summary>
    public static void Identical(Tensor expected, Tensor actual, string what = "")
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var same = expected.eq(actual).all();
        Assert.True(same.item<bool>(), $"{what}: values differ");
    }

    /// <summary>Asserts |actual - expected| ≤ atol + rtol·|expected| everywhere; returns the max abs difference.</summary>
    public static double Close(Tensor actual, Tensor expected, double atol, double rtol = 0, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var a = actual.to(ScalarType.Float64);
        var e = expected.to(ScalarType.Float64);
        var diff = (a - e).abs();
        double maxAbs = diff.max().item<double>();
        // Rooted scalars: implicit double -> Scalar temporaries may be freed by the GC during the native call.
        using var relative = rtol.ToScalar();
        using var absolute = atol.ToScalar();
        var excess = diff - e.abs().mul(relative).add(absolute, NotebookLens.Runtime.Scalars.Of(1.0));
        double worst = excess.max().item<double>();
        Assert.True(worst <= 0, $"{what}: max |diff| {maxAbs:E3} exceeds atol {atol:E1} + rtol {rtol:E1}");
        return maxAbs;
    }
}
