using System.CommandLine;
using NotebookLens.Steering;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>patchscope</c>: patches a source prompt's representation into a target prompt at each source layer and
/// shows the sweep's view (one continuation per layer); <c>--json</c> prints <c>{"source", "target", "results": [{"layer", "target_layer", "text", "ids"}]}</c>.
/// </summary>
public sealed class PatchscopeCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _source, _sourceToken, _target, _placeholder;
    readonly Option<int?> _sourcePosition, _targetLayer;
    readonly Option<IReadOnlyList<int>> _layers;
    readonly Option<int> _maxNewTokens;
    readonly ViewOutput _output;

    public PatchscopeCommand(CliIO io) : base(io, "patchscope",
        "Patchscope: takes a token's hidden state from a source prompt at each layer, puts it into a target prompt and lets the model say what it reads there, one continuation per layer.",
        "patchscope --source \"The farmer picked a ripe apple\" --source-token apple --max-new-tokens 5",
        "patchscope --source \"Apple was founded by Steve Jobs\" --source-token Apple --target \"Please briefly introduce X\" --placeholder X --layers 0,2,5")
    {
        var defaults = new PatchscopeOptions();
        _model = new ModelArgs(this);
        _source = Declare(CliOptions.Text("--source", "TEXT", "The source prompt whose token's representation is read.").Required());
        _sourceToken = Declare(CliOptions.Text("--source-token", "TEXT", "Read the last token of the last occurrence of this text in the source (default: the source's last token)."));
        _sourcePosition = Declare(CliOptions.OptionalInt("--source-position", "I", "Instead of --source-token: read token I of the source (0 is the first, -1 the last).", min: int.MinValue));
        _target = Declare(CliOptions.Text("--target", "TEXT", $"The target prompt, with --placeholder (default: the model's own, which the embedded models have, else \"{PatchscopeTarget.Identity.Prompt}\" with placeholder {PatchscopeTarget.Identity.Placeholder})."));
        _placeholder = Declare(CliOptions.Text("--placeholder", "X", "The text in --target whose last token receives the representation."));
        _layers = Declare(CliOptions.Value("--layers", "a,b,c|all", "The source layers to sweep, comma-separated (layers count from 0), or all (the default).", Layers));
        _targetLayer = Declare(CliOptions.OptionalInt("--target-layer", "L", "The target layer to patch at (default: the model's own target's layer, else the same layer as the source's)."));
        _maxNewTokens = Declare(CliOptions.Int("--max-new-tokens", "N", "How many tokens each continuation has at most.", min: 1).Default(defaults.MaxNewTokens));
        _output = new ViewOutput(this, json: "{\"source\", \"target\", \"results\": [{\"layer\", \"target_layer\", \"text\", \"ids\"}]}", html: true);
        Check(r => r.GetValue(_sourceToken) is not null && r.GetValue(_sourcePosition) is not null ? "give either --source-token or --source-position, not both" : null);
        Check(r => (r.GetValue(_target) is null) != (r.GetValue(_placeholder) is null)
            ? "--target and --placeholder go together (the placeholder marks where the representation goes)" : null);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var source = new PatchscopeSource(args.GetValue(_source)!)
        {
            Token = args.GetValue(_sourceToken),
            Index = args.GetValue(_sourcePosition) ?? -1,
        };
        var options = new PatchscopeOptions { TargetLayer = args.GetValue(_targetLayer), MaxNewTokens = args.GetValue(_maxNewTokens) };
        if (args.GetValue(_target) is { } target) options = options with { Target = new PatchscopeTarget(target, args.GetValue(_placeholder)!) };
        using var lens = _model.LoadLens(args, io);
        var layers = args.GetValue(_layers) is { Count: > 0 } given ? given : Enumerable.Range(0, lens.Config.NumLayers).ToList();
        var sweep = lens.Patchscope(source, layers, options, new ProgressBar(io.Error, io.Interactive));
        _output.Write(args, io, "Patchscope", [PatchscopeView.Create(sweep)], () => new
            {
                source = new { text = source.Prompt, position = sweep.SourcePosition, token = sweep.Source.Tokens[sweep.SourcePosition].Text },
                target = new { text = sweep.Target.Text, placeholder = sweep.Placeholder, position = sweep.TargetPosition, token = sweep.Target.Tokens[sweep.TargetPosition].Text },
                results = sweep.Results.Select(r => new { layer = r.SourceLayer, target_layer = r.TargetLayer, text = r.Text, ids = r.NewIds }),
            });
        return 0;
    }

    /// <summary>
    /// The layers of <c>--layers</c>; none for all (the model's number of layers is known only once it is loaded; a
    /// parsed value cannot be null in System.CommandLine, and a list given is never empty).
    /// </summary>
    static IReadOnlyList<int> Layers(string value) => value == "all" ? []
        : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => CliOptions.WholeNumber("--layers", v, int.MinValue)).ToList() is { Count: > 0 } layers
            ? layers
            : throw new UsageException("--layers needs layer numbers (a,b,c) or all");
}
