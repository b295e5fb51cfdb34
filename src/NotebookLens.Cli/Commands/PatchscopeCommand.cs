using NotebookLens.Steering;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>patchscope</c>: patches a source prompt's representation into a target prompt at each source layer and
/// shows the sweep's view (one continuation per layer); <c>--json</c> prints <c>{"source", "target", "results": [{"layer", "target_layer", "text", "ids"}]}</c>.
/// </summary>
public sealed class PatchscopeCommand : ICommand
{
    public string Name => "patchscope";
    public string Usage => $"patchscope {ModelArgs.Usage} --source TEXT [--source-token TEXT | --source-position I] [--target TEXT --placeholder X] "
        + "[--layers a,b,c | all] [--target-layer L] [--max-new-tokens N] [--json] " + ViewOutput.HtmlUsage;
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["source", "source-token", "source-position", "target", "placeholder", "layers", "target-layer", "max-new-tokens", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        string? token = args.Get("source-token"), position = args.Get("source-position"), target = args.Get("target"), placeholder = args.Get("placeholder");
        if (token is not null && position is not null) throw new UsageException("give either --source-token or --source-position, not both");
        if ((target is null) != (placeholder is null)) throw new UsageException("--target and --placeholder go together (the placeholder marks where the representation goes)");
        var source = new PatchscopeSource(args.Require("source"))
        {
            Token = token,
            Index = position is null ? -1 : CliArgs.ParseInt(position, "source-position", int.MinValue),
        };
        var defaults = new PatchscopeOptions();
        var options = new PatchscopeOptions
        {
            Target = target is null ? defaults.Target : new PatchscopeTarget(target, placeholder!),
            TargetLayer = args.Get("target-layer") is { } t ? CliArgs.ParseInt(t, "target-layer", 0) : null,
            MaxNewTokens = args.Int("max-new-tokens", defaults.MaxNewTokens, 1),
        };
        using var lens = ModelArgs.LoadLens(args, io);
        var sweep = lens.Patchscope(source, Layers(args.Get("layers") ?? "all", lens.Config.NumLayers), options, new ProgressBar(io.Error, io.Interactive));
        ViewOutput.Write(args, io, "Patchscope", PatchscopeView.Create(sweep));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new
            {
                source = new { text = source.Prompt, position = sweep.SourcePosition, token = sweep.Source.Tokens[sweep.SourcePosition].Text },
                target = new { text = options.Target.Prompt, placeholder = options.Target.Placeholder, position = sweep.TargetPosition, token = sweep.Target.Tokens[sweep.TargetPosition].Text },
                results = sweep.Results.Select(r => new { layer = r.SourceLayer, target_layer = r.TargetLayer, text = r.Text, ids = r.NewIds }),
            }));
        return 0;
    }

    static IReadOnlyList<int> Layers(string value, int numLayers) => value == "all"
        ? Enumerable.Range(0, numLayers).ToList()
        : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => CliArgs.ParseInt(v, "layers", int.MinValue)).ToList() is { Count: > 0 } layers
            ? layers
            : throw new UsageException("--layers needs layer numbers (a,b,c) or all");
}
