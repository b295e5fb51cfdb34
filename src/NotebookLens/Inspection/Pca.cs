using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>
/// Principal components of a set of vectors, for 2-D/3-D views of representations. Each component's sign is
/// fixed so that its largest-magnitude coordinate is positive, so the same data always gives the same picture.
/// </summary>
/// <param name="Projected">Points × components: each vector's coordinates.</param>
/// <param name="Components">Components × dimensions: the unit axes.</param>
/// <param name="Model">The model whose hidden states were projected, or null for vectors given directly.</param>
/// <param name="Layer">The <c>hidden_states</c> index projected, or null.</param>
public sealed record PcaResult(Matrix Projected, IReadOnlyList<double> ExplainedVarianceRatio, Matrix Components, IReadOnlyList<string> Labels,
    ModelRef? Model = null, int? Layer = null);

public static class Pca
{
    /// <summary>Fits <paramref name="components"/> principal components of the rows of <paramref name="vectors"/> [N, D].</summary>
    public static PcaResult Fit(Tensor vectors, int components = 2, IReadOnlyList<string>? labels = null)
    {
        if (vectors.dim() != 2) throw new ArgumentException("PCA takes a matrix [N, D] of row vectors.", nameof(vectors));
        long n = vectors.shape[0], d = vectors.shape[1];
        if (components < 1 || components > Math.Min(n, d))
            throw new LensException(LensErrorKind.OutOfRange, $"{components} components asked for; between 1 and min(points, dimensions) = {Math.Min(n, d)} are possible.", setting: "components");
        if (labels is not null && labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} vectors.", nameof(labels));
        labels ??= Matrix.Numbered((int)n);
        using var scope = NewDisposeScope();
        var x = vectors.to(ScalarType.Float64, CPU);
        var centered = x - x.mean([0], keepdim: true);
        var (_, s, vh) = linalg.svd(centered, fullMatrices: false);
        var axes = vh.narrow(0, 0, components);
        var signs = axes.gather(1, axes.abs().argmax(1, keepdim: true)).sign();
        axes = axes * signs;
        var projected = centered.matmul(axes.t());
        var variance = s.pow(Scalars.Of(2L));
        var ratio = (variance / variance.sum()).narrow(0, 0, components).ToHostArray<double>();
        var pcs = Matrix.Numbered(components, "PC");
        return new PcaResult(Matrix.From(projected, labels, pcs), ratio, Matrix.From(axes, pcs, Matrix.Numbered((int)d)), labels);
    }

    /// <summary>
    /// PCA of <c>hidden_states[layer]</c> of each text at its last token, or at the last token of <paramref name="word"/>
    /// in it (e.g. the two senses of "apple"); the points are labelled with the texts.
    /// </summary>
    public static PcaResult OfHiddenStates(TextModel lens, int layer, IReadOnlyList<string> texts, string? word = null, int components = 2)
    {
        Ranges.Check(layer, lens.Config.NumLayers + 1, "hidden-state layer");
        if (texts.Count < 2) throw new LensException(LensErrorKind.OutOfRange, "PCA needs at least two texts.", setting: "texts");
        using var scope = NewDisposeScope();
        var vectors = texts.Select(t =>
        {
            var prompt = lens.Prompt(t);
            int index = word is null ? prompt.Count - 1 : prompt.Locate(word);
            var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true });
            return run.HiddenStates![layer][0, index].to(ScalarType.Float32);
        }).ToArray();
        return Fit(stack(vectors), Math.Min(components, texts.Count), texts) with { Model = lens.Ref, Layer = layer };
    }
}
