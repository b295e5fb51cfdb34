using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;

namespace NotebookLens.Steering;

/// <summary>How a refusal experiment splits its instructions, scores candidates and generates.</summary>
public sealed record RefusalExperimentOptions
{
    /// <summary>Instructions of each kind whose activations give the candidate directions (the first ones of each list).</summary>
    public int TrainCount { get; init; } = 32;

    /// <summary>Instructions of each kind the candidates are scored on (the next ones).</summary>
    public int ValidationCount { get; init; } = 8;

    /// <summary>Instructions of each kind generated for in the four conditions (the next ones).</summary>
    public int TestCount { get; init; } = 8;

    /// <summary>Only score this layer's candidates (the best position wins); the layer filter does not apply to a layer you chose.</summary>
    public int? Layer { get; init; }

    public SelectionThresholds Thresholds { get; init; } = SelectionThresholds.Default;

    /// <summary>Tokens that start a refusal, as text; each must be one token (Llama 3 and Gemma 3: "I").</summary>
    public IReadOnlyList<string> RefusalTokens { get; init; } = ["I"];

    /// <summary>A system message for every prompt; null: none.</summary>
    public string? SystemPrompt { get; init; }

    public int BatchSize { get; init; } = 16;

    /// <summary>Length of each greedy completion.</summary>
    public int MaxNewTokens { get; init; } = 32;

    public RefusalMatcher Matcher { get; init; } = RefusalMatcher.Default;

    /// <summary>Called as each candidate is scored and judged (scoring takes positions × layers × 3 validation passes).</summary>
    public Action<JudgedCandidate>? OnCandidateScored { get; init; }

    /// <summary>The thresholds in force: a layer you chose is not discarded for being late.</summary>
    public SelectionThresholds EffectiveThresholds => Layer is null ? Thresholds : Thresholds with { PruneLayerFraction = 0 };
}

/// <summary>One test instruction's greedy completion and whether it reads as a refusal.</summary>
public sealed record Completion(string Instruction, string Text, bool Refusal);

/// <summary>The completions of one condition and the fraction judged refusals.</summary>
public sealed record ConditionResult(string Name, IReadOnlyList<Completion> Completions)
{
    public double RefusalRate => (double)Completions.Count(c => c.Refusal) / Completions.Count;
}

/// <summary>The chosen direction, how every candidate scored, and the completions of the four conditions.</summary>
/// <param name="PostInstructionTokens">Readable post-instruction tokens; candidate position p is entry <c>Count + p</c>.</param>
/// <param name="BaselineHarmful">Mean refusal score (log-odds) of the harmful validation prompts without intervention.</param>
/// <param name="Conditions"><see cref="RefusalExperiment.HarmfulBaseline"/>, <see cref="RefusalExperiment.HarmlessBaseline"/>, <see cref="RefusalExperiment.HarmlessAdded"/>, <see cref="RefusalExperiment.HarmfulAblated"/>, in that order.</param>
public sealed record RefusalExperimentResult(
    ModelRef Model,
    RefusalDirection Direction,
    DirectionSelection Selection,
    IReadOnlyList<string> PostInstructionTokens,
    double BaselineHarmful,
    double BaselineHarmless,
    IReadOnlyList<ConditionResult> Conditions)
{
    /// <summary>The refusal rate of a condition by name.</summary>
    public double Rate(string condition) => Conditions.First(c => c.Name == condition).RefusalRate;
}

/// <summary>
/// Arditi et al. 2024 end to end: candidate directions from the training instructions, selection on the validation
/// instructions, then greedy completions of the test instructions in four conditions — harmful and harmless without
/// intervention, harmless with the direction added at its layer (induces refusal), harmful with the direction ablated
/// everywhere (bypasses it) — and their refusal rates.
/// </summary>
public static class RefusalExperiment
{
    public const string HarmfulBaseline = "harmful_baseline";
    public const string HarmlessBaseline = "harmless_baseline";
    public const string HarmlessAdded = "harmless_added";
    public const string HarmfulAblated = "harmful_ablated";

    /// <param name="progress">Told how each stage goes: the mean activations, the baselines, scoring the candidates, generating the completions.</param>
    /// <param name="cancel">Stops before the next batch of any pass (means, scores, completions: generation stops after the current token) with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="NoRefusalDirectionException">Every candidate was discarded; the message says how to relax the filters.</exception>
    public static RefusalExperimentResult Run(TextModel model, IReadOnlyList<string> harmful, IReadOnlyList<string> harmless, RefusalExperimentOptions? options = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default)
    {
        options ??= new RefusalExperimentOptions();
        var config = model.Config;
        if (options.TrainCount < 1 || options.ValidationCount < 1 || options.TestCount < 1)
            throw new LensException(LensErrorKind.OutOfRange, "The train, validation and test counts must each be at least 1.", setting: "TrainCount");
        if (options.Layer is int chosen) Ranges.Check(chosen, config.NumLayers, "layer");
        var harmfulSplit = Split(harmful, "harmful", options);
        var harmlessSplit = Split(harmless, "harmless", options);
        var prompts = new InstructionPrompts(model.Tokenizer, options.SystemPrompt);
        var refusalIds = RefusalScorer.TokenIds(model.Tokenizer, options.RefusalTokens);
        int positions = prompts.PostInstructionCount;

        cancel.ThrowIfCancellationRequested();
        using var candidates = CandidateDirections.Compute(model.Model, prompts.Ids(harmfulSplit.Train), prompts.Ids(harmlessSplit.Train), positions, options.BatchSize, cancel, progress);
        using var scorer = new RefusalScorer(model.Model, prompts.Ids(harmfulSplit.Validation), prompts.Ids(harmlessSplit.Validation), refusalIds, options.BatchSize, cancel, progress);
        var layers = (options.Layer is int only ? [only] : Enumerable.Range(0, config.NumLayers)).ToList();
        var scores = new List<CandidateScore>();
        var scoring = new ProgressCounter(progress, "score candidates", positions * layers.Count, "candidates").Start();
        foreach (int position in Enumerable.Range(-positions, positions))
            foreach (int layer in layers)
            {
                cancel.ThrowIfCancellationRequested();
                using var vector = candidates[position, layer];
                var score = scorer.Score(position, layer, vector, cancel);
                scores.Add(score);
                options.OnCandidateScored?.Invoke(DirectionSelection.Judge(score, config.NumLayers, options.EffectiveThresholds));
                scoring.Step($"position {position}, layer {layer}");
            }
        var selection = DirectionSelection.Select(scores, config.NumLayers, options.EffectiveThresholds);
        var direction = RefusalDirection.From(candidates, selection.Require());
        var generating = new ProgressCounter(progress, "generate", 2 * (harmfulSplit.Test.Count + harmlessSplit.Test.Count), "completions").Start();
        ConditionResult Condition(IReadOnlyList<string> instructions, HookSet? hooks, string name) =>
            Generate(model, prompts, instructions, hooks, name, options, generating, cancel);
        var conditions = new List<ConditionResult>
        {
            Condition(harmfulSplit.Test, null, HarmfulBaseline),
            Condition(harmlessSplit.Test, null, HarmlessBaseline),
            Condition(harmlessSplit.Test, direction.Addition(+1), HarmlessAdded),
            Condition(harmfulSplit.Test, direction.Ablation(config), HarmfulAblated),
        };
        return new RefusalExperimentResult(model.Ref, direction, selection, prompts.PostInstructionLabels,
            scorer.BaselineHarmful, scorer.BaselineHarmless, conditions);
    }

    sealed record Splits(IReadOnlyList<string> Train, IReadOnlyList<string> Validation, IReadOnlyList<string> Test);

    static Splits Split(IReadOnlyList<string> instructions, string kind, RefusalExperimentOptions o)
    {
        int needed = o.TrainCount + o.ValidationCount + o.TestCount;
        if (instructions.Count < needed)
            throw new ArgumentException(
                $"{instructions.Count} {kind} instructions given but {needed} are needed ({o.TrainCount} train + {o.ValidationCount} validation + {o.TestCount} test). Give more instructions or lower the counts.");
        return new Splits(
            instructions.Take(o.TrainCount).ToList(),
            instructions.Skip(o.TrainCount).Take(o.ValidationCount).ToList(),
            instructions.Skip(o.TrainCount + o.ValidationCount).Take(o.TestCount).ToList());
    }

    static ConditionResult Generate(TextModel model, InstructionPrompts prompts, IReadOnlyList<string> instructions, HookSet? hooks, string name,
        RefusalExperimentOptions o, ProgressCounter progress, CancellationToken cancel)
    {
        var generation = new GenerationOptions { MaxNewTokens = o.MaxNewTokens, Hooks = hooks };
        var completions = new List<Completion>();
        foreach (var batch in instructions.Chunk(o.BatchSize))
        {
            cancel.ThrowIfCancellationRequested();
            var results = model.GenerateBatch(batch.Select(prompts.Prompt).ToList(), generation, cancel);
            cancel.ThrowIfCancellationRequested();
            for (int i = 0; i < batch.Length; i++) completions.Add(new Completion(batch[i], results[i].Text, o.Matcher.IsRefusal(results[i].Text)));
            progress.Step(name, batch.Length);
        }
        return new ConditionResult(name, completions);
    }
}
