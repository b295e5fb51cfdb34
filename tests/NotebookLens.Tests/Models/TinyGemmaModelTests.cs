using NotebookLens.Loading;
using NotebookLens.Training;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Models;

public sealed class TinyGemmaLens() : EmbeddedLens(EmbeddedModel.TinyGemma);

/// <summary>tiny-gemma's claims (src/NotebookLens/Models/TinyGemma/README.md, "What the tests hold it to").</summary>
public sealed class TinyGemmaModelTests(TinyGemmaLens gemma) : EmbeddedModelClaims(gemma.Lens), IClassFixture<TinyGemmaLens>
{
    protected override EmbeddedModel Embedded => EmbeddedModel.TinyGemma;

    protected override TinyModelRecipe Recipe => TinyModelRecipe.Gemma;

    protected override double HeldOutHarmfulRefused => 0.7;

    protected override int PatchscopeWords => 13;

    protected override (int First, int Last) SixApplesApart => (1, Lens.Config.NumLayers);

    protected override int FirstEnglishRow => 2;

    protected override double FourApplesMargin => 0.01;

    [Fact]
    public void It_is_a_small_Gemma_3_with_its_sliding_window_and_global_layers()
    {
        Assert.Equal("gemma3_text", Lens.Config.ModelType);
        Assert.Equal("<bos>", Lens.Tokenizer.Decode([Lens.Config.BosTokenId!.Value]));
        Assert.Equal(Recipe.SlidingWindow, Lens.Config.SlidingWindow);
        Assert.Equal(Enumerable.Range(0, Recipe.Layers).Select(Recipe.IsSliding), Lens.Config.SlidingLayers);
        Assert.Contains("<start_of_turn>user\n", Lens.Tokenizer.ApplyChatTemplate([new ChatMessage("user", "Hi")]));
    }

    [Fact]
    public void On_the_notebooks_question_its_sliding_layers_see_the_last_eight_tokens_only_and_its_global_layers_all()
    {
        // Notebook 04's prompt: from the last token the window of 8 reaches back to "green" and no further, so
        // "<bos>The apple is" get nothing in the sliding layers and something in the global ones.
        const string text = "The apple is green. What color is the apple?";
        var maps = Lens.Attention(text);
        int last = maps.Prompt.Count - 1, window = Lens.Config.SlidingWindow!.Value;
        Assert.Equal(last - window + 1, maps.Prompt.Locate("green"));
        for (int layer = 0; layer < maps.Layers; layer++)
            for (int head = 0; head < maps.Heads; head++)
            {
                var row = maps.Head(layer, head);
                double beyond = Enumerable.Range(0, last - window + 1).Sum(k => row[last, k]);
                if (Lens.Config.SlidingLayers[layer]) Assert.Equal(0, beyond);
                else Assert.True(beyond > 1e-6, $"global layer {layer} head {head}: {beyond}");
            }
    }
}
