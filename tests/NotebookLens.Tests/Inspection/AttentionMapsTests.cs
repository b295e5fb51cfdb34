using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>Attention maps and their summaries, held to the forward pass's attentions.</summary>
public sealed class AttentionMapsTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Fact]
    public void Attention_maps_are_the_forward_attentions_with_summaries()
    {
        var lens = lenses.Gemma;
        var maps = lens.Attention(Prompts.Colour);
        int t = maps.Tokens;
        Assert.Equal(lens.Config.NumLayers * lens.Config.NumHeads, maps.Maps.Count);
        using var scope = NewDisposeScope();
        var run = lens.Forward(maps.Prompt, new ForwardOptions { Attentions = true });
        for (int l = 0; l < maps.Layers; l++)
            for (int h = 0; h < maps.Heads; h++)
            {
                var expected = run.Attentions![l][0, h].to(ScalarType.Float64).data<double>().ToArray();
                var head = maps.Head(l, h);
                for (int q = 0; q < t; q++)
                    for (int k = 0; k < t; k++) Assert.Equal(expected[q * t + k], head[q, k], 6);
                // The first-token attention is the mean of column 0 over the queries after the first.
                double sink = Enumerable.Range(1, t - 1).Average(q => expected[q * t]);
                Assert.Equal(sink, maps.FirstTokenAttention()[l, h], 6);
            }
        int color = maps.Prompt.Locate("color"), green = maps.Prompt.Locate("green");
        var top = maps.TopHeads("color", "green", k: 3);
        var best = Enumerable.Range(0, maps.Layers * maps.Heads).MaxBy(i => maps.Head(i / maps.Heads, i % maps.Heads)[color, green]);
        Assert.Equal((best / maps.Heads, best % maps.Heads), (top[0].Layer, top[0].Head));
        Assert.Equal(maps.Head(top[0].Layer, top[0].Head)[color, green], top[0].Score, 9);
        Assert.True(top[0].Score >= top[1].Score && top[1].Score >= top[2].Score);
        Assert.Equal(LensErrorKind.OutOfRange, Assert.Throws<LensException>(() => maps.Head(lens.Config.NumLayers, 0)).Kind);
        Assert.Equal("head", Assert.Throws<LensException>(() => maps.Head(0, lens.Config.NumHeads)).Setting);
    }
}
