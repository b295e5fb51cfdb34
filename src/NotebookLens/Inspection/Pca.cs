using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>
/// Principal components of a set of vectors, for 2-D/3-D views of representations. Each component's sign is
/// fixed so that its largest-magnitude coordinate is positive, so the same data always gives the same picture.
/// </summary>
public sealed record PcaResult(double[,] Projected, double[] ExplainedVarianceRatio, double[,] Components, IReadOnlyList<string> Labels);

public static class Pca
{
    /// <summary>Fits <paramref name="components"/> principal components of the rows of <paramref name="vectors"/> [N, D].</summary>
    public static PcaResult Fit(Tensor vectors, int components = 2, IReadOnlyList<string>? labels = null)
    {
        if (vectors.dim() != 2) throw new ArgumentException("PCA takes a matrix [N, D] of row vectors.", nameof(vectors));
        long n = vectors.shape[0], d = vectors.shape[1];
        if (components < 1 || components > Math.Min(n, d))
            throw new ArgumentOutOfRangeException(nameof(components), $"Between 1 and min(N, D) = {Math.Min(n, d)} components.");
        if (labels is not null && labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} vectors.", nameof(labels));
        using var scope = NewDisposeScope();
        var x = vectors.to(ScalarType.Float64);
        var centered = x - x.mean([0], keepdim: true);
        var (_, s, vh) = linalg.svd(centered, fullMatrices: false);
        var axes = vh.narrow(0, 0, components);
        var signs = axes.gather(1, axes.abs().argmax(1, keepdim: true)).sign();
        axes = axes * signs;
        var projected = centered.matmul(axes.t());
        var variance = s.pow(Scalars.Of(2L));
        var ratio = (variance / variance.sum()).narrow(0, 0, components).data<double>().ToArray();
        return new PcaResult(ToArray(projected), ratio, ToArray(axes), labels ?? Enumerable.Range(0, (int)n).Select(i => i.ToString()).ToList());
    }

    static double[,] ToArray(Tensor m)
    {
        long rows = m.shape[0], cols = m.shape[1];
        var values = m.contiguous().data<double>().ToArray();
        var result = new double[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) result[i, j] = values[i * cols + j];
        return result;
    }
}
