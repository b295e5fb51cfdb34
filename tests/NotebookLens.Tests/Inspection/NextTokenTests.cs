using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>Temperatures, held to softmax(logits / T) written out.</summary>
public sealed class NextTokenTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Fact]
    public void Temperature_sharpens_and_flattens_the_distribution()
    {
        var lens = lenses.Gemma;
        var prompt = lens.Prompt("The apple is");
        var d = lens.Temperatures(prompt, 0.5, 1.0, 2.0).Distributions;
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt);
        var logits = run.Logits[0, -1].to(ScalarType.Float64).data<double>().ToArray();
        foreach (var dist in d)
        {
            // softmax(logits / T) written out.
            var scaled = logits.Select(l => l / dist.Temperature).ToArray();
            double max = scaled.Max(), z = scaled.Sum(v => Math.Exp(v - max));
            Assert.Equal(Math.Exp(scaled[dist.Top[0].Id] - max) / z, dist.Top[0].Probability, 5);
            double entropy = -scaled.Sum(v => Math.Exp(v - max) / z * (v - max - Math.Log(z)));
            Assert.Equal(entropy, dist.Entropy, 3);
        }
        Assert.True(d[0].Top[0].Probability > d[1].Top[0].Probability && d[1].Top[0].Probability > d[2].Top[0].Probability);
        Assert.Equal(d[0].Top[0].Id, d[2].Top[0].Id);
        Assert.Throws<LensException>(() => lens.Temperatures(prompt, 0.0));
    }
}
