using NotebookLens.Steering;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>refusal</c>: Arditi et al.'s refusal direction end to end — candidates, selection (or only <c>--layer L</c>),
/// then greedy completions of the test instructions in four conditions. <c>--json</c> prints
/// <c>{"layer", "position", "rates": {harmful_baseline, harmless_baseline, harmless_added, harmful_ablated}, "candidates": [...], ...}</c>.
/// </summary>
public sealed class RefusalCommand : ICommand
{
    public string Name => "refusal";
    public string Usage => $"refusal {ModelArgs.Usage} [--harmful FILE] [--harmless FILE] [--layer L] [--n-train N] [--n-val N] [--n-test N] [--max-new-tokens N] "
        + $"[--kl-threshold X|none] [--steering-threshold X|none] [--prune-layers F] [--refusal-tokens T,...] [--system TEXT] [--batch-size N] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["harmful", "harmless", "layer", "n-train", "n-val", "n-test", "max-new-tokens",
        "kl-threshold", "steering-threshold", "prune-layers", "refusal-tokens", "system", "batch-size", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        bool json = args.Flag("json");
        var defaults = new RefusalExperimentOptions();
        var prune = args.Double("prune-layers", defaults.Thresholds.PruneLayerFraction);
        if (prune is < 0 or >= 1) throw new UsageException("--prune-layers is the fraction of last layers to discard, in [0, 1)");
        var options = new RefusalExperimentOptions
        {
            TrainCount = args.Int("n-train", defaults.TrainCount, 1),
            ValidationCount = args.Int("n-val", defaults.ValidationCount, 1),
            TestCount = args.Int("n-test", defaults.TestCount, 1),
            MaxNewTokens = args.Int("max-new-tokens", defaults.MaxNewTokens, 1),
            BatchSize = args.Int("batch-size", defaults.BatchSize, 1),
            Layer = args.Get("layer") is { } layer ? CliArgs.ParseInt(layer, "layer", 0) : null,
            Thresholds = new SelectionThresholds
            {
                MaxKlDivergence = Threshold(args, "kl-threshold", defaults.Thresholds.MaxKlDivergence),
                MinSteeringScore = Threshold(args, "steering-threshold", defaults.Thresholds.MinSteeringScore),
                PruneLayerFraction = prune,
            },
            RefusalTokens = args.Get("refusal-tokens") is { } tokens ? tokens.Split(',', StringSplitOptions.RemoveEmptyEntries) : defaults.RefusalTokens,
            SystemPrompt = args.Get("system"),
        };
        var harmful = args.Get("harmful") is { } harmfulPath ? InstructionSets.Load(harmfulPath) : InstructionSets.Harmful;
        var harmless = args.Get("harmless") is { } harmlessPath ? InstructionSets.Load(harmlessPath) : InstructionSets.Harmless;

        using var lens = ModelArgs.LoadLens(args, io);
        if (options.Layer >= lens.Config.NumLayers)
            throw new UsageException($"--layer {options.Layer}: this model has layers 0 .. {lens.Config.NumLayers - 1}");
        var result = lens.Refusal(options, harmful, harmless, new ProgressBar(io.Error, io.Interactive));
        ViewOutput.Write(args, io, "refusal direction", RefusalView.Create(result));
        if (json) io.Output.WriteLine(CliJson.Serialize(Json(result)));
        return 0;
    }

    static double? Threshold(CliArgs args, string name, double? fallback) => args.Get(name) switch
    {
        null => fallback,
        "none" => null,
        var v => CliArgs.ParseDouble(v, name),
    };

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
