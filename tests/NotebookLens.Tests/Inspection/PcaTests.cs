using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>PCA, held to projections and distances computed by hand.</summary>
public sealed class PcaTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Fact]
    public void Pca_finds_the_main_axis_deterministically()
    {
        using var scope = NewDisposeScope();
        var t = linspace(-3, 3, 50).unsqueeze(1);
        var axis = tensor(new float[] { 3, 4, 0 }) / 5;
        var noise = randn(50, 3, generator: new TorchSharp.torch.Generator(1)) * 0.01;
        var points = t * axis + noise + tensor(new float[] { 10, -2, 5 });
        var result = Pca.Fit(points, 2);
        Assert.True(result.ExplainedVarianceRatio[0] > 0.999);
        Assert.Equal(0.6, Math.Abs(result.Components[0, 0]), 2);
        Assert.Equal(0.8, Math.Abs(result.Components[0, 1]), 2);
        Assert.True(result.Components[0, 1] > 0, "largest coordinate made positive");
        // Coordinates are the centred points on the axes.
        var mean = points.mean([0]);
        for (int i = 0; i < 50; i += 7)
        {
            var centred = (points[i] - mean).to(ScalarType.Float64).data<double>().ToArray();
            for (int c = 0; c < 2; c++)
                Assert.Equal(Enumerable.Range(0, 3).Sum(d => centred[d] * result.Components[c, d]), result.Projected[i, c], 5);
        }
        var again = Pca.Fit(points, 2);
        Assert.Equal(result.Projected[7, 0], again.Projected[7, 0], 9);
        Assert.Throws<LensException>(() => Pca.Fit(points, 4));
    }

    [Fact]
    public void Pca_of_hidden_states_projects_the_words_vectors()
    {
        var lens = lenses.Llama;
        string[] texts = ["I ate an apple", "Apple makes phones", "A red apple fell"];
        var result = lens.Pca(2, texts, word: "pple");
        Assert.Equal(texts, result.Labels);
        Assert.Equal(2, result.Layer);
        Assert.Equal(3, result.Projected.RowCount);
        // Distances between points are preserved up to the dropped component: with 3 points and 2 components, exactly.
        var vectors = texts.Select(t => ByHand.HiddenAsDoubles(lens, t)[2][lens.Prompt(t).Locate("pple")]).ToList();
        double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                Assert.Equal(Distance(vectors[i], vectors[j]), Distance(result.Projected.Values[i], result.Projected.Values[j]), 3);
    }
}
