using NotebookLens.Inspection;
using NotebookLens.Loading;
using NotebookLens.Training;

namespace NotebookLens.Tests.Models;

public sealed class TinyLens() : EmbeddedLens(EmbeddedModel.Tiny);

/// <summary>tiny's claims (src/NotebookLens/Models/Tiny/README.md, "What the tests hold it to").</summary>
public sealed class TinyModelTests(TinyLens tiny) : EmbeddedModelClaims(tiny.Lens), IClassFixture<TinyLens>
{
    protected override EmbeddedModel Embedded => EmbeddedModel.Tiny;

    protected override TinyModelRecipe Recipe => TinyModelRecipe.Default;

    protected override double HeldOutHarmfulRefused => 0.8;

    protected override int PatchscopeWords => 18;

    protected override (int First, int Last) SixApplesApart => (2, Lens.Config.NumLayers / 2);

    protected override int FirstEnglishRow => 1;

    protected override double FourApplesMargin => 0.05;

    [Fact]
    public void It_is_a_small_Llama()
    {
        Assert.Equal("llama", Lens.Config.ModelType);
        Assert.Equal("<|begin_of_text|>", Lens.Tokenizer.Decode([Lens.Config.BosTokenId!.Value]));
    }

    [Fact]
    public void King_and_王_are_each_others_neighbours()
    {
        using var space = new EmbeddingSpace(Lens);
        Assert.Contains(" king", Nearest(space, "王"));
        Assert.Contains("王", Nearest(space, " king"));
    }
}
