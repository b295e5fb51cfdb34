using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>The logit lens, held to the model's prediction and to the final norm and head written out.</summary>
public sealed class LogitLensTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void The_lens_at_the_last_layer_with_the_final_norm_is_the_models_prediction(string name)
    {
        var lens = lenses.Get(name);
        var prompt = lens.Prompt(Prompts.Colour);
        var result = lens.LogitLens(prompt, new LogitLensOptions { TopK = 3, Targets = ["green"] });
        Assert.Equal(lens.Config.NumLayers + 1, result.Top.Length);
        Assert.Equal("embed", result.LayerLabels[0]);
        Assert.Same(prompt, result.Prompt);
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt);
        var probs = run.Logits[0].softmax(-1);
        var (values, indices) = probs.topk(3);
        for (int p = 0; p < prompt.Count; p++)
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(indices[p, k].item<long>(), result.Top[^1][p][k].Id);
                Assert.Equal(values[p, k].item<float>(), result.Top[^1][p][k].Probability, 5);
            }
        // Target ranks agree with the top lists.
        var green = result.Targets["green"];
        for (int row = 0; row < green.Length; row++)
            for (int p = 0; p < prompt.Count; p++)
                Assert.Equal(result.Top[row][p][0].Id == lens.TokenId("green"), green[row][p].Rank == 1);

        var raw = lens.LogitLens(prompt, new LogitLensOptions { TopK = 3, ApplyFinalNorm = false, LastPositionOnly = true });
        Assert.Single(raw.PositionLabels);
        Assert.False(raw.FinalNormApplied);
        Assert.NotEqual(result.Top[^1][^1][0].Probability, raw.Top[^1][0][0].Probability);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Every_lens_row_is_the_final_norm_and_head_written_out_by_hand(string name)
    {
        var lens = lenses.Get(name);
        var prompt = lens.Prompt(Prompts.Weather);
        var result = lens.LogitLens(prompt, new LogitLensOptions { TopK = 2, LastPositionOnly = true });
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true });
        // Rows: hidden_states[0 .. L-1] and the raw output of the last layer (hidden_states[L] is already normalised).
        var rows = run.HiddenStates!.Take(lens.Config.NumLayers).Append(run.PrenormLast!).ToList();
        var weight = lens.Weight("model.norm.weight").to(ScalarType.Float64);
        // Rooted scalars (Runtime.Scalars): a temporary one can be freed by the GC during the native call (a CI failure).
        var scale = lens.Config.ModelType.StartsWith("gemma") ? Scalars.Plus(weight, 1.0) : weight;
        var head = lens.Model.LmHead.to(ScalarType.Float64);
        for (int row = 0; row < rows.Count; row++)
        {
            var x = rows[row][0, -1].to(ScalarType.Float64);
            var normed = x / Scalars.Plus(x.pow(Scalars.Of(2L)).mean(), lens.Config.RmsNormEps).sqrt() * scale;
            var p = head.matmul(normed).softmax(0);
            var (values, indices) = p.topk(2);
            Assert.Equal(indices[0].item<long>(), result.Top[row][0][0].Id);
            // fp32 against float64: the fixtures' logit tolerance (1e-4), not "equal to 4 places", which fails whenever the
            // two straddle a rounding boundary (0.921326 and 0.921351 did, with libtorch's AVX2 kernels).
            Assert.Equal(values[0].item<double>(), result.Top[row][0][0].Probability, 1e-4);
        }
    }
}
