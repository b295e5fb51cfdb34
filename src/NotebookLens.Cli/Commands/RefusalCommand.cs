using System.CommandLine;
using NotebookLens.Steering;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>refusal</c>: Arditi et al.'s refusal direction end to end — candidates, selection (or only <c>--layer L</c>),
/// then greedy completions of the test instructions in four conditions. <c>--json</c> prints
/// <c>{"layer", "position", "rates": {harmful_baseline, harmless_baseline, harmless_added, harmful_ablated}, "candidates": [...], ...}</c>.
/// </summary>
public sealed class RefusalCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _harmful, _harmless, _system;
    readonly Option<int?> _layer;
    readonly Option<int> _train, _validation, _test, _maxNewTokens, _batchSize;
    readonly Option<Threshold> _klThreshold, _steeringThreshold;
    readonly Option<double> _prune;
    readonly Option<string[]> _refusalTokens;
    readonly ViewOutput _output;

    public RefusalCommand(CliIO io) : base(io, "refusal",
        "Finds the refusal direction (Arditi et al.): the difference of the mean activations on harmful and harmless instructions, scored at every layer and position; "
        + "selects the best, then shows completions of test instructions in four conditions: harmful and harmless as they are, harmless with the direction added, harmful with it removed.",
        "refusal --max-new-tokens 16", "refusal --layer 3 --harmful my-harmful.txt --harmless my-harmless.txt")
    {
        var defaults = new RefusalExperimentOptions();
        _model = new ModelArgs(this);
        _harmful = Declare(CliOptions.Text("--harmful", "FILE", "Harmful instructions, one per line (default: the set inside NotebookLens)."));
        _harmless = Declare(CliOptions.Text("--harmless", "FILE", "Harmless instructions, one per line (default: the set inside NotebookLens)."));
        _layer = Declare(CliOptions.OptionalInt("--layer", "L", "Only score candidates of this layer (layers count from 0; default: every layer)."));
        _train = Declare(CliOptions.Int("--n-train", "N", "Instructions of each set that make the direction (the mean difference).", min: 1).Default(defaults.TrainCount));
        _validation = Declare(CliOptions.Int("--n-val", "N", "Instructions of each set that score and select the candidates.", min: 1).Default(defaults.ValidationCount));
        _test = Declare(CliOptions.Int("--n-test", "N", "Instructions of each set completed in the four conditions.", min: 1).Default(defaults.TestCount));
        _maxNewTokens = Declare(CliOptions.Int("--max-new-tokens", "N", "Length of each test completion, in tokens at most.", min: 1).Default(defaults.MaxNewTokens));
        _klThreshold = Declare(ThresholdOption("--kl-threshold",
            "Discard a candidate whose removal changes harmless next-token distributions by more KL divergence (nats) than X; none: keep all.", defaults.Thresholds.MaxKlDivergence));
        _steeringThreshold = Declare(ThresholdOption("--steering-threshold",
            "Discard a candidate whose addition leaves harmless instructions' refusal score below X; none: keep all (a model never trained to refuse, such as random weights or a base model, passes no threshold).",
            defaults.Thresholds.MinSteeringScore));
        _prune = Declare(CliOptions.Double("--prune-layers", "F", "Discard the candidates of the last fraction F of the layers; 0 keeps every layer.",
            f => f is >= 0 and < 1, "in [0, 1) (the fraction of last layers to discard)").Default(defaults.Thresholds.PruneLayerFraction));
        _refusalTokens = Declare(CliOptions.Value("--refusal-tokens", "T,...", "Tokens that start a refusal, comma-separated; the refusal score is their probability as the first token.",
            tokens => tokens.Split(',', StringSplitOptions.RemoveEmptyEntries)).Default([.. defaults.RefusalTokens]));
        _system = Declare(CliOptions.Text("--system", "TEXT", "A system message before every instruction."));
        _batchSize = Declare(CliOptions.Int("--batch-size", "N", "Instructions run together; lower it if memory runs out.", min: 1).Default(defaults.BatchSize));
        _output = new ViewOutput(this, json: "{\"layer\", \"position\", \"rates\", \"candidates\": [...], \"completions\", ...}", html: true);
    }

    /// <summary>A selection threshold: a number, or none to turn the filter off.</summary>
    static Option<Threshold> ThresholdOption(string name, string description, double? fallback) =>
        CliOptions.Value(name, "X|none", description, text => new Threshold(text == "none" ? null : CliOptions.Number(name, text, _ => true, "or none")))
            .Default(new Threshold(fallback));

    /// <summary>A threshold's value, null when off (a parsed option's value cannot be null itself in System.CommandLine).</summary>
    readonly record struct Threshold(double? Value)
    {
        public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var options = new RefusalExperimentOptions
        {
            TrainCount = args.GetValue(_train),
            ValidationCount = args.GetValue(_validation),
            TestCount = args.GetValue(_test),
            MaxNewTokens = args.GetValue(_maxNewTokens),
            BatchSize = args.GetValue(_batchSize),
            Layer = args.GetValue(_layer),
            Thresholds = new SelectionThresholds
            {
                MaxKlDivergence = args.GetValue(_klThreshold).Value,
                MinSteeringScore = args.GetValue(_steeringThreshold).Value,
                PruneLayerFraction = args.GetValue(_prune),
            },
            RefusalTokens = args.GetValue(_refusalTokens)!,
            SystemPrompt = args.GetValue(_system),
        };
        var harmful = args.GetValue(_harmful) is { } harmfulPath ? InstructionSets.Load(harmfulPath) : InstructionSets.Harmful;
        var harmless = args.GetValue(_harmless) is { } harmlessPath ? InstructionSets.Load(harmlessPath) : InstructionSets.Harmless;

        using var lens = _model.LoadLens(args, io);
        // The model's number of layers is known only now.
        if (options.Layer >= lens.Config.NumLayers)
            throw new UsageException($"--layer {options.Layer}: this model has layers 0 .. {lens.Config.NumLayers - 1}");
        var result = lens.Refusal(options, harmful, harmless, new ProgressBar(io.Error, io.Interactive));
        _output.Write(args, io, "refusal direction", [RefusalView.Create(result)], () => Json(result));
        return 0;
    }

    static string Token(RefusalExperimentResult r, int position) => r.PostInstructionTokens[r.PostInstructionTokens.Count + position];

    static object Json(RefusalExperimentResult r)
    {
        var best = r.Selection.Best!;
        return new Dictionary<string, object?>
        {
            ["layer"] = best.Layer,
            ["position"] = best.Position,
            ["position_token"] = Token(r, best.Position),
            ["rates"] = r.Conditions.ToDictionary(c => c.Name, c => c.RefusalRate),
            ["baseline_scores"] = new { harmful = r.BaselineHarmful, harmless = r.BaselineHarmless },
            ["thresholds"] = new
            {
                kl_divergence = r.Selection.Thresholds.MaxKlDivergence,
                steering_score = r.Selection.Thresholds.MinSteeringScore,
                prune_layer_fraction = r.Selection.Thresholds.PruneLayerFraction,
            },
            ["post_instruction_tokens"] = r.PostInstructionTokens,
            ["candidates"] = r.Selection.Candidates.Select(c => new
            {
                position = c.Score.Position,
                layer = c.Score.Layer,
                norm = Finite(c.Score.Norm),
                refusal_score = Finite(c.Score.RefusalScore),
                steering_score = Finite(c.Score.SteeringScore),
                kl_divergence = Finite(c.Score.KlDivergence),
                selected = c.Score == best,
                discarded = c.Discards.Select(d => new { reason = Snake(d.Reason), message = d.Message }),
            }),
            ["completions"] = r.Conditions.ToDictionary(c => c.Name, c => c.Completions.Select(x => new { instruction = x.Instruction, text = x.Text, refusal = x.Refusal })),
        };
    }

    // JSON has no NaN or infinity.
    static double? Finite(double x) => double.IsFinite(x) ? x : null;

    static string Snake(DiscardReason reason) => string.Concat(reason.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
}
