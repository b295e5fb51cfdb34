using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>Contextual similarity, held to cosines computed by hand.</summary>
public sealed class ContextualSimilarityTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Fact]
    public void Shared_prefixes_have_identical_states_and_self_similarity_is_maximal()
    {
        var items = new[]
        {
            new WordInContext("The apple is green.", "apple"),
            new WordInContext("The apple pie is sweet.", "apple"),
            new WordInContext("I ate an apple, then another apple.", "apple", 2),
            new WordInContext("Apple makes the iPhone.", "Apple"),
        };
        var result = lenses.Gemma.Similarity(items);
        Assert.Equal(lenses.Gemma.Config.NumLayers + 1, result.Layers);
        Assert.Equal(" apple", result.TokenTexts[0]);
        Assert.Equal(lenses.Gemma.Ref, result.Model);
        for (int l = 0; l < result.Layers; l++)
        {
            // The first two sentences share "The apple": a causal model gives both the same states there.
            Assert.Equal(1.0, result.Raw[l][0, 1], 4);
            for (int i = 0; i < items.Length; i++)
            {
                Assert.Equal(1.0, result.Raw[l][i, i], 5);
                for (int j = 0; j < items.Length; j++)
                {
                    Assert.True(result.Normalized[l][i, i] >= result.Normalized[l][i, j] - 1e-9);
                    Assert.Equal(result.Raw[l][i, j] / result.Baseline[l], result.Normalized[l][i, j], 9);
                }
            }
        }
        Assert.Contains("occurs 1 time", Assert.Throws<LensException>(() =>
            lenses.Gemma.Similarity([items[0], new WordInContext("The apple is green.", "apple", 2)])).Message);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Similarity_and_its_baseline_match_cosines_computed_by_hand(string name)
    {
        var lens = lenses.Get(name);
        string[] sentences = ["The apple is green.", "Apple makes phones."];
        var result = lens.Similarity("pple", sentences);
        // Independent computation: every hidden state as doubles, cosines written out.
        var states = sentences.Select(s => (Prompt: lens.Prompt(s), Hidden: ByHand.HiddenAsDoubles(lens, s))).ToList();
        for (int l = 0; l < result.Layers; l++)
        {
            var pool = states.SelectMany(s => s.Prompt.Tokens.Where(t => !t.Special).Select(t => s.Hidden[l][t.Index])).ToList();
            double sum = 0;
            int pairs = 0;
            for (int i = 0; i < pool.Count; i++)
                for (int j = 0; j < pool.Count; j++)
                    if (i != j) { sum += ByHand.Cosine(pool[i], pool[j]); pairs++; }
            Assert.Equal(sum / pairs, result.Baseline[l], 4);
            var a = states[0].Hidden[l][states[0].Prompt.Locate("pple")];
            var b = states[1].Hidden[l][states[1].Prompt.Locate("pple")];
            Assert.Equal(ByHand.Cosine(a, b), result.Raw[l][0, 1], 4);
            Assert.Equal(ByHand.Cosine(a, b) / (sum / pairs), result.Normalized[l][0, 1], 3);
        }
    }
}
