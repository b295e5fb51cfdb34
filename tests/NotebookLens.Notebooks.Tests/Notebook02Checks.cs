using System.Globalization;
using System.Text.RegularExpressions;
using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// notebooks/02-representations: hidden states, the first token, the two apples and their PCA, each output held to the
/// same step computed here on tiny, and the effects the text tells the student to look for.
/// </summary>
public sealed class Notebook02Checks(NotebookRuns runs) : NotebookChecks(runs)
{
    protected override string Notebook => "02-representations";

    const string Green = "The apple is green.";
    static readonly string[] Fruit = ["I ate an apple for breakfast", "She baked an apple pie for dessert"];
    static readonly string[] Company = ["The latest iPhone from apple sold out quickly", "My sister bought a laptop made by apple"];
    static readonly string[] PcaTexts = [.. Fruit, "The farmer picked a ripe apple in the orchard", .. Company, "Shares of the tech company apple rose today"];

    static string F(double x, int decimals) => x.ToString("F" + decimals, CultureInfo.InvariantCulture);

    [Theory, Runners]
    public async Task There_are_L_plus_1_hidden_states_with_their_shapes_and_norms(Runner runner)
    {
        var notebook = await Executed(runner);
        var result = Tiny.HiddenStates(Green);
        Assert.Equal(Tiny.Config.NumLayers + 1, result.States.Count);
        var view = notebook.Cell("hidden").Text;
        int apple = result.Prompt.Locate("apple");
        var byHand = notebook.Cell("hidden-cs").Text;
        Assert.Contains($"{result.States.Count} hidden states for {Tiny.Config.NumLayers} layers", byHand);
        foreach (var state in result.States)
        {
            var shape = "[" + string.Join(", ", state.Shape) + "]";
            Assert.Contains($"hidden_states[{state.Index}] {state.Label} {shape}", view);
            Assert.Contains($"hidden_states[{state.Index}]: {shape}, norm of ' apple' {F(state.Norms[apple], 2)}", byHand);
        }
    }

    [Theory, Runners]
    public async Task The_first_token_has_the_same_vector_whatever_follows(Runner runner)
    {
        var notebook = await Executed(runner);
        using var scope = NewDisposeScope();
        var ate = Tiny.Forward("I ate an apple for breakfast", new ForwardOptions { HiddenStates = true }).HiddenStates!;
        var bought = Tiny.Forward("I bought shares of apple", new ForwardOptions { HiddenStates = true }).HiddenStates!;
        var lines = notebook.Cell("first-token-cs").Text;
        for (int i = 0; i < ate.Count; i++)
        {
            Assert.True(ate[i][0, 1].equal(bought[i][0, 1]).all().item<bool>(), $"hidden_states[{i}] of 'I' differ");
            Assert.Contains($"hidden_states[{i}]: largest difference of the vectors of 'I' = 0", lines);
        }
        var similarity = Tiny.Similarity("I", "I ate an apple for breakfast", "I bought shares of apple");
        AssertPairRows(notebook.Cell("first-token").Text, similarity);
        Assert.All(similarity.Raw, m => Assert.Equal("1.000", F(m[0, 1], 3)));
    }

    [Theory, Runners]
    public async Task The_two_apples_drift_apart_and_the_cosine_by_hand_is_the_analysis_number(Runner runner)
    {
        var notebook = await Executed(runner);
        var similarity = Tiny.Similarity("apple", Fruit[0], Company[0]);
        AssertPairRows(notebook.Cell("two-senses").Text, similarity);
        var byHand = notebook.Cell("two-senses-cs").Text;
        for (int l = 0; l < similarity.Layers; l++)
        {
            var raw = F(similarity.Raw[l][0, 1], 4);
            Assert.Matches($@"(?m)^\s*{l}\s+{raw}\s+{raw}\s+{F(similarity.Baseline[l], 3)}\s+{F(similarity.Normalized[l][0, 1], 2)}\s*$", byHand);
        }
        // What the text says: identical at the embeddings, then falling layer after layer to about 0.3 in the last layers
        // (the last one no lower than the one before it).
        Assert.Equal("1.000", F(similarity.Raw[0][0, 1], 3));
        for (int l = 1; l < similarity.Layers - 1; l++) Assert.True(similarity.Raw[l][0, 1] < similarity.Raw[l - 1][0, 1], $"no fall at layer {l}");
        Assert.InRange(similarity.Raw[^1][0, 1], 0.25, 0.35);
    }

    [Theory, Runners]
    public async Task Same_sense_pairs_beat_cross_sense_pairs_in_the_first_blocks_and_on_average_after(Runner runner)
    {
        var notebook = await Executed(runner);
        var four = Tiny.Similarity("apple", [.. Fruit, .. Company]);
        AssertPairRows(notebook.Cell("four").Text, four);
        (int, int)[] same = [(0, 1), (2, 3)];
        (int, int)[] across = [(0, 2), (0, 3), (1, 2), (1, 3)];
        var table = notebook.Cell("four-cs").Text;
        for (int l = 0; l < four.Layers; l++)
        {
            double sameMin = same.Min(p => four.Raw[l][p.Item1, p.Item2]), acrossMax = across.Max(p => four.Raw[l][p.Item1, p.Item2]);
            double sameMean = same.Average(p => four.Raw[l][p.Item1, p.Item2]), acrossMean = across.Average(p => four.Raw[l][p.Item1, p.Item2]);
            bool apart = sameMin > acrossMax;
            Assert.Matches($@"(?m)^\s*{l}\s+{F(sameMin, 3)}\s+{F(acrossMax, 3)}\s+{(apart ? "yes" : "no")}\s+{F(sameMean, 3)}\s+{F(acrossMean, 3)}\s*$", table);
            if (l == 0) continue;
            // The text: every pair apart at layers 1 to 3, raw and normalised; "made by apple" nearer the fruit than the
            // other company apple from layer 6 on; the same-sense mean ahead at every layer.
            bool apartNormalized = same.Min(p => four.Normalized[l][p.Item1, p.Item2]) > across.Max(p => four.Normalized[l][p.Item1, p.Item2]);
            Assert.True(apart == l <= 3 && apartNormalized == l <= 3, $"layer {l}: same-sense {sameMin:F3}, cross-sense {acrossMax:F3}");
            if (l >= 6) Assert.True(four.Raw[l][0, 3] > four.Raw[l][2, 3] && four.Raw[l][1, 3] > four.Raw[l][2, 3], $"layer {l}: 'made by apple' is nearer the other company apple");
            Assert.True(sameMean > acrossMean, $"layer {l}: same-sense mean {sameMean:F3}, cross-sense mean {acrossMean:F3}");
        }
    }

    [Theory, Runners]
    public async Task The_first_principal_axis_pulls_the_senses_apart(Runner runner)
    {
        var notebook = await Executed(runner);
        int middle = Tiny.Config.NumLayers / 2;
        var pca = Tiny.Pca(middle, PcaTexts, "apple");
        var view = notebook.Cell("pca").Text;
        var lines = notebook.Cell("pca-cs").Text;
        for (int i = 0; i < PcaTexts.Length; i++)
        {
            Assert.Matches($@"(?m)^{Regex.Escape(PcaTexts[i])}\s+{F(pca.Projected[i, 0], 4)}\s+{F(pca.Projected[i, 1], 4)}\s*$", view);
            Assert.Matches($@"(?m)^{(i < 3 ? "fruit  " : "company")}  PC1\s+{F(pca.Projected[i, 0], 1)}  {Regex.Escape(PcaTexts[i])}$", lines);
        }
        // The text: the fruit apples on one side; "My sister …" (farthest out) and "The latest iPhone …" on the other;
        // "Shares …" nearer zero than any fruit apple.
        var fruitSide = Math.Sign(pca.Projected[0, 0]);
        for (int i = 0; i < 3; i++) Assert.True(Math.Sign(pca.Projected[i, 0]) == fruitSide, $"{PcaTexts[i]} is on the wrong side of PC1");
        foreach (int i in new[] { 3, 4 }) Assert.True(Math.Sign(pca.Projected[i, 0]) == -fruitSide, $"{PcaTexts[i]} is on the wrong side of PC1");
        double fruitNearest = Enumerable.Range(0, 3).Min(i => Math.Abs(pca.Projected[i, 0]));
        Assert.True(Math.Abs(pca.Projected[5, 0]) < fruitNearest, $"{PcaTexts[5]} at {pca.Projected[5, 0]:F1}, a fruit apple at {fruitNearest:F1}");
        Assert.True(Math.Abs(pca.Projected[4, 0]) > Enumerable.Range(0, 6).Where(i => i != 4).Max(i => Math.Abs(pca.Projected[i, 0])), "'My sister …' is not the farthest out");
    }

    /// <summary>The similarity view's text: per layer the baseline and each pair's raw and normalised cosine, in order.</summary>
    static void AssertPairRows(string text, NotebookLens.Inspection.SimilarityResult result)
    {
        int n = result.Items.Count;
        for (int l = 0; l < result.Layers; l++)
        {
            var cells = new List<string> { $"{l}", F(result.Baseline[l], 3) };
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    cells.AddRange([F(result.Raw[l][i, j], 3), F(result.Normalized[l][i, j], 3)]);
            Assert.Matches($@"(?m)^\s*{string.Join(@"\s+", cells.Select(Regex.Escape))}\s*$", text);
        }
    }
}
