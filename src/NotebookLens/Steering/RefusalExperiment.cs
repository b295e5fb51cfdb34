using NotebookLens.Generation;
using NotebookLens.Models;

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
public sealed class RefusalExperimentResult : IDisposable
{
    public required RefusalDirection Direction { get; init; }
    public required DirectionSelection Selection { get; init; }
    /// <summary>Readable post-instruction tokens; candidate position p is entry <c>Count + p</c>.</summary>
    public required IReadOnlyList<string> PostInstructionTokens { get; init; }
    /// <summary>Mean refusal score (log-odds) of the validation prompts without intervention.</summary>
    public required double BaselineHarmful { get; init; }
    public required double BaselineHarmless { get; init; }
    /// <summary><see cref="RefusalExperiment.HarmfulBaseline"/>, <see cref="RefusalExperiment.HarmlessBaseline"/>, <see cref="RefusalExperiment.HarmlessAdded"/>, <see cref="RefusalExperiment.HarmfulAblated"/>, in that order.</summary>
    public required IReadOnlyList<ConditionResult> Conditions { get; init; }

    public void Dispose() => Direction.Dispose();
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

    /// <exception cref="NoRefusalDirectionException">Every candidate was discarded; the message says how to relax the filters.</exception>
    public static RefusalExperimentResult Run(LensModel model, IReadOnlyList<string> harmful, IReadOnlyList<string> harmless, RefusalExperimentOptions? options = null)
    {
        options ??= new RefusalExperimentOptions();
        var config = model.Config;
        if (options.TrainCount < 1 || options.ValidationCount < 1 || options.TestCount < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "The train, validation and test counts must each be at least 1.");
        if (options.Layer is int chosen) LayerRange.Check(chosen, config.NumLayers, nameof(options));
        var harmfulSplit = Split(harmful, "harmful", options);
        var harmlessSplit = Split(harmless, "harmless", options);
        var prompts = new InstructionPrompts(model.Tokenizer, options.SystemPrompt);
        var refusalIds = RefusalScorer.TokenIds(model.Tokenizer, options.RefusalTokens);
        int positions = prompts.PostInstructionCount;

        using var candidates = CandidateDirections.Compute(model.Model, prompts.Ids(harmfulSplit.Train), prompts.Ids(harmlessSplit.Train), positions, options.BatchSize);
        using var scorer = new RefusalScorer(model.Model, prompts.Ids(harmfulSplit.Validation), prompts.Ids(harmlessSplit.Validation), refusalIds, options.BatchSize);
        var layers = options.Layer is int only ? [only] : Enumerable.Range(0, config.NumLayers);
        var scores = new List<CandidateScore>();
        foreach (int position in Enumerable.Range(-positions, positions))
            foreach (int layer in layers)
            {
                using var vector = candidates[position, layer];
                var score = scorer.Score(position, layer, vector);
                scores.Add(score);
                options.OnCandidateScored?.Invoke(DirectionSelection.Judge(score, config.NumLayers, options.EffectiveThresholds));
            }
        var selection = DirectionSelection.Select(scores, config.NumLayers, options.EffectiveThresholds);
        var direction = RefusalDirection.From(candidates, selection.Require());
        try
        {
            var conditions = new List<ConditionResult>
            {
                Generate(model, prompts, harmfulSplit.Test, null, HarmfulBaseline, options),
                Generate(model, prompts, harmlessSplit.Test, null, HarmlessBaseline, options),
                Generate(model, prompts, harmlessSplit.Test, direction.Addition(+1), HarmlessAdded, options),
                Generate(model, prompts, harmfulSplit.Test, direction.Ablation(config), HarmfulAblated, options),
            };
            return new RefusalExperimentResult
            {
                Direction = direction,
                Selection = selection,
                PostInstructionTokens = prompts.PostInstructionLabels,
                BaselineHarmful = scorer.BaselineHarmful,
                BaselineHarmless = scorer.BaselineHarmless,
                Conditions = conditions,
            };
        }
        catch
        {
            direction.Dispose();
            throw;
        }
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

    static ConditionResult Generate(LensModel model, InstructionPrompts prompts, IReadOnlyList<string> instructions, HookSet? hooks, string name, RefusalExperimentOptions o)
    {
        var generation = new GenerationOptions
        {
            MaxNewTokens = o.MaxNewTokens,
            Hooks = hooks,
            StopTokens = model.Model.StopTokenIds.Concat(model.Tokenizer.EosIds).ToHashSet(),
        };
        var completions = new List<Completion>();
        foreach (var batch in instructions.Chunk(o.BatchSize))
        {
            var results = model.Model.GenerateBatch(prompts.Ids(batch), generation);
            for (int i = 0; i < batch.Length; i++)
            {
                var text = model.Tokenizer.Decode(results[i].NewIds, skipSpecialTokens: true);
                completions.Add(new Completion(batch[i], text, o.Matcher.IsRefusal(text)));
            }
        }
        return new ConditionResult(name, completions);
    }
}
