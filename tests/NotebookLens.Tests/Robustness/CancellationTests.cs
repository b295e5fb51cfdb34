using System.Text.Json;
using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Steering;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// Stopping long work part-way on tiny: it stops at the next token or batch, and the model it ran on gives exactly
/// what it gave before (the cancelled call's hooks went with it; nothing of it stays attached).
/// </summary>
public sealed class CancellationTests(TinyFloat32 tiny) : IClassFixture<TinyFloat32>
{
    LensModel Lens => tiny.Lens;

    static readonly GenerationOptions TwentyTokens = GenerationOptions.Greedy(20) with { StopTokens = [] };

    /// <summary>Made anew for each call, as a notebook cell would: the embedding of " blue" added at every layer's input.</summary>
    internal static HookSet Steering(LensModel lens) =>
        Interventions.AddVector(lens.Weight("model.embed_tokens.weight")[lens.TokenId(" blue")], Enumerable.Range(0, lens.Config.NumLayers), 8.0);

    HookSet Steering() => Steering(Lens);

    [Fact]
    public void Generation_cancelled_after_three_tokens_stops_there_and_the_next_run_is_unchanged()
    {
        var prompt = Lens.Prompt("The apple is green. What color is the apple?");
        var plain = Lens.Generate(prompt, TwentyTokens).NewIds;
        var steered = Lens.Generate(prompt, TwentyTokens with { Hooks = Steering() }).NewIds;
        Assert.NotEqual(plain, steered); // the hooks change the output, so a hook left attached would show

        using var cancel = new CancellationTokenSource();
        var partial = Lens.Generate(prompt, TwentyTokens with
        {
            Hooks = Steering(),
            OnToken = t => { if (t.Step == 2) cancel.Cancel(); },
        }, cancel: cancel.Token);
        Assert.Equal(FinishReason.Cancelled, partial.FinishReason);
        Assert.Equal(steered.Take(3), partial.NewIds);

        Assert.Equal(plain, Lens.Generate(prompt, TwentyTokens).NewIds);
        Assert.Equal(steered, Lens.Generate(prompt, TwentyTokens with { Hooks = Steering() }).NewIds);
    }

    [Fact]
    public void Refusal_cancelled_after_two_candidates_stops_there_and_the_next_run_is_unchanged()
    {
        var options = new RefusalExperimentOptions
        {
            TrainCount = 2, ValidationCount = 2, TestCount = 1, MaxNewTokens = 4, BatchSize = 1, Layer = 2,
            Thresholds = new SelectionThresholds { MaxKlDivergence = null, MinSteeringScore = null, PruneLayerFraction = 0 },
        };
        var before = JsonSerializer.Serialize(Lens.Refusal(options));

        using var cancel = new CancellationTokenSource();
        var scored = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => Lens.Refusal(
            options with { OnCandidateScored = _ => { if (++scored == 2) cancel.Cancel(); } }, cancel: cancel.Token));
        Assert.Equal(2, scored); // of 5 post-instruction positions at layer 2

        Assert.Equal(before, JsonSerializer.Serialize(Lens.Refusal(options)));
    }

    [Fact]
    public void Scoring_a_candidate_stops_before_its_next_batch_and_the_scorer_stays_usable()
    {
        var prompts = new InstructionPrompts(Lens.Tokenizer);
        var harmful = prompts.Ids(InstructionSets.Harmful.Take(3));
        var harmless = prompts.Ids(InstructionSets.Harmless.Take(3));
        using var scope = NewDisposeScope();
        using var candidates = CandidateDirections.Compute(Lens.Model, harmful, harmless, prompts.PostInstructionCount);
        using var scorer = new RefusalScorer(Lens.Model, harmful, harmless, RefusalScorer.TokenIds(Lens.Tokenizer, ["I"]), batchSize: 1);
        var score = scorer.Score(-1, 2, candidates[-1, 2]);

        // The passes of a score are batches of the validation prompts; cancelled after the first, none follows.
        using var cancel = new CancellationTokenSource();
        var batches = new List<int>();
        Assert.ThrowsAny<OperationCanceledException>(() => PromptBatch.Run(Lens.Model, harmful, 1, null, (first, _) =>
        {
            batches.Add(first);
            cancel.Cancel();
        }, cancel.Token));
        Assert.Equal([0], batches);
        Assert.ThrowsAny<OperationCanceledException>(() => scorer.Score(-1, 2, candidates[-1, 2], cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => CandidateDirections.Compute(Lens.Model, harmful, harmless, prompts.PostInstructionCount, cancel: cancel.Token));

        Assert.Equal(score, scorer.Score(-1, 2, candidates[-1, 2]));
    }
}
