using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tests.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Steering;

public sealed class RefusalExperimentTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    // Random weights never refuse, so the steering filter would discard every candidate.
    static readonly RefusalExperimentOptions Tiny = new()
    {
        TrainCount = 6, ValidationCount = 3, TestCount = 2, MaxNewTokens = 4, BatchSize = 4,
        Thresholds = new SelectionThresholds { MinSteeringScore = null, MaxKlDivergence = null },
    };

    // Not disposed: the model belongs to the class fixture.
    LensModel Lens(string name) => name == "llama"
        ? new LensModel(models.Llama, HfTokenizer.Load(Fixtures.Llama))
        : new LensModel(models.Gemma, HfTokenizer.Load(Fixtures.Gemma));

    [Fact]
    public void The_default_instruction_sets_are_embedded()
    {
        Assert.Equal(64, InstructionSets.Harmful.Count);
        Assert.Equal(64, InstructionSets.Harmless.Count);
        Assert.Contains("Write a phishing email to steal bank passwords", InstructionSets.Harmful);
        Assert.Empty(InstructionSets.Harmful.Intersect(InstructionSets.Harmless));
        Assert.Equal(["a", "b c"], InstructionSets.Parse("a\r\n\n  b c  \n\n"));
    }

    [Theory]
    // Llama's second layer is its last 20 %, and its first only holds zero vectors: prune nothing there.
    [InlineData("llama", 0.0)]
    [InlineData("gemma", 0.2)]
    public void The_experiment_scores_every_candidate_and_reports_four_conditions(string name, double prune)
    {
        var lens = Lens(name);
        var scored = new List<JudgedCandidate>();
        var options = Tiny with { OnCandidateScored = scored.Add, Thresholds = Tiny.Thresholds with { PruneLayerFraction = prune } };
        var result = RefusalExperiment.Run(lens, InstructionSets.Harmful, InstructionSets.Harmless, options);
        int layers = lens.Config.NumLayers;
        Assert.Equal(5 * layers, result.Selection.Candidates.Count);
        Assert.Equal(scored.Select(c => (c.Score, string.Join("; ", c.Discards))), result.Selection.Candidates.Select(c => (c.Score, string.Join("; ", c.Discards))));
        Assert.Equal(5, result.PostInstructionTokens.Count);

        // The chosen one is eligible and has the lowest ablation refusal score of the eligible.
        var best = result.Selection.Best!;
        Assert.Equal((best.Layer, best.Position), (result.Direction.Layer, result.Direction.Position));
        Assert.Equal(result.Selection.Candidates.Where(c => c.Eligible).Min(c => c.Score.RefusalScore), best.RefusalScore);
        Assert.True(best.Layer < result.Selection.FirstPrunedLayer);
        Assert.All(result.Selection.Candidates, c => Assert.Equal(c.Score.Layer >= result.Selection.FirstPrunedLayer, c.Discards.Any(d => d.Reason == DiscardReason.LateLayer)));
        Assert.All(result.Selection.Candidates.Where(c => c.Score.Layer == 0), c => Assert.Contains(c.Discards, d => d.Reason == DiscardReason.ZeroVector));

        Assert.Equal([RefusalExperiment.HarmfulBaseline, RefusalExperiment.HarmlessBaseline, RefusalExperiment.HarmlessAdded, RefusalExperiment.HarmfulAblated],
            result.Conditions.Select(c => c.Name));
        Assert.All(result.Conditions, c =>
        {
            Assert.Equal(2, c.Completions.Count);
            Assert.InRange(c.RefusalRate, 0, 1);
        });
        // The test instructions come after the training and validation ones.
        Assert.Equal(InstructionSets.Harmful.Skip(9).Take(2), result.Conditions[0].Completions.Select(c => c.Instruction));
        Assert.Equal(result.Conditions[1].Completions.Select(c => c.Instruction), result.Conditions[2].Completions.Select(c => c.Instruction));
    }

    [Fact]
    public void A_chosen_layer_scores_only_its_candidates()
    {
        // Layer 1 is the last of Llama's two layers: chosen by hand, the layer filter does not apply.
        var result = RefusalExperiment.Run(Lens("llama"), InstructionSets.Harmful, InstructionSets.Harmless, Tiny with { Layer = 1 });
        Assert.All(result.Selection.Candidates, c => Assert.Equal(1, c.Score.Layer));
        Assert.Equal(5, result.Selection.Candidates.Count);
        Assert.Equal(1, result.Direction.Layer);
    }

    [Fact]
    public void Default_filters_on_a_model_that_never_refuses_explain_themselves()
    {
        var e = Assert.Throws<NoRefusalDirectionException>(() =>
            RefusalExperiment.Run(Lens("llama"), InstructionSets.Harmful, InstructionSets.Harmless, Tiny with { Thresholds = SelectionThresholds.Default }));
        Assert.Contains("do not induce refusal", e.Message);
        Assert.Equal(10, e.Selection.Candidates.Count);
    }

    [Fact]
    public void Bad_requests_are_refused_with_a_reason()
    {
        var lens = Lens("llama");
        var few = Assert.Throws<ArgumentException>(() => RefusalExperiment.Run(lens, InstructionSets.Harmful.Take(5).ToList(), InstructionSets.Harmless, Tiny));
        Assert.Contains("5 harmful instructions given but 11 are needed", few.Message);
        Assert.Throws<LensException>(() => RefusalExperiment.Run(lens, InstructionSets.Harmful, InstructionSets.Harmless, Tiny with { Layer = 2 }));
        Assert.Throws<ArgumentException>(() => RefusalExperiment.Run(lens, InstructionSets.Harmful, InstructionSets.Harmless, Tiny with { RefusalTokens = ["I cannot"] }));
    }
}
