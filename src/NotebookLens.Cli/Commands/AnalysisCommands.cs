using NotebookLens.Inspection;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>similarity</c>: how alike a word's hidden states are across sentences, layer by layer.</summary>
public sealed class SimilarityCommand : ICommand
{
    public string Name => "similarity";
    public string Usage => $"similarity {ModelArgs.Usage} --word W --sentence S --sentence S [...] [--occurrence N] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["word", "sentence", "occurrence", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var word = args.Require("word");
        var sentences = args.GetAll("sentence");
        if (sentences.Count < 2) throw new UsageException("give at least two --sentence");
        int occurrence = args.Int("occurrence", 1, min: 1);
        using var lens = ModelArgs.LoadLens(args, io);
        var result = lens.Similarity(sentences.Select(s => new WordInContext(s, word, occurrence)).ToList());
        ViewOutput.Write(args, io, $"similarity of {word}", SimilarityView.Create(result));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new
            {
                items = result.Items.Select((item, i) => new { sentence = item.Sentence, word = item.Word, occurrence = item.Occurrence, token = result.TokenTexts[i], index = result.TokenIndices[i] }),
                layers = Enumerable.Range(0, result.Layers).Select(l => new
                {
                    layer = l,
                    baseline = result.Baseline[l],
                    raw = result.Raw[l].Values,
                    normalized = result.Normalized[l].Values,
                }),
            }));
        return 0;
    }
}

/// <summary><c>lens</c>: the logit lens, what each layer would predict.</summary>
public sealed class LensCommand : ICommand
{
    public string Name => "lens";
    public string Usage => $"lens {ModelArgs.Usage} --text TEXT [--k 3] [--last] [--no-final-norm] [--target TOKEN ...] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "k", "target", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json", "last", "no-final-norm" };

    public int Run(CliArgs args, CliIO io)
    {
        var text = args.Require("text");
        var options = new LogitLensOptions
        {
            TopK = args.Int("k", 3, min: 1),
            LastPositionOnly = args.Flag("last"),
            ApplyFinalNorm = !args.Flag("no-final-norm"),
            Targets = args.GetAll("target"),
        };
        using var lens = ModelArgs.LoadLens(args, io);
        var result = lens.LogitLens(text, options);
        ViewOutput.Write(args, io, $"logit lens: {text}", LogitLensView.Create(result));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new
            {
                final_norm = result.FinalNormApplied,
                layers = result.LayerLabels,
                positions = result.PositionLabels,
                top = result.Top.Select(row => row.Select(cell => cell.Select(p => new { id = p.Id, text = p.Text, prob = p.Probability, logit = p.Logit }))),
                targets = result.Targets.ToDictionary(t => t.Key, t => t.Value.Select(row => row.Select(x => new { rank = x.Rank, prob = x.Probability }))),
            }));
        return 0;
    }
}

/// <summary><c>attention</c>: attention maps and the heads that matter.</summary>
public sealed class AttentionCommand : ICommand
{
    public string Name => "attention";
    public string Usage => $"attention {ModelArgs.Usage} --text TEXT [--layer L --head H] [--from WORD --to WORD] [--k 5] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "layer", "head", "from", "to", "k", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var text = args.Require("text");
        string? from = args.Get("from"), to = args.Get("to");
        if ((from is null) != (to is null)) throw new UsageException("--from and --to go together");
        if ((args.Get("layer") is null) != (args.Get("head") is null)) throw new UsageException("--layer and --head go together");
        int k = args.Int("k", 5, min: 1);
        (int Layer, int Head)? one = args.Get("layer") is null ? null : (args.Int("layer", 0), args.Int("head", 0));
        using var lens = ModelArgs.LoadLens(args, io);
        var maps = lens.Attention(text);
        (int From, int To)? pair = from is null ? null : (maps.Prompt.Locate(from), maps.Prompt.Locate(to!));
        var views = new List<View> { AttentionView.Grid(maps), AttentionView.FirstToken(maps) };
        if (pair is (int f, int t)) views.Add(AttentionView.TopHeads(maps, f, t, k));
        if (one is (int layer, int head)) views.Add(AttentionView.Head(maps, layer, head));
        ViewOutput.Write(args, io, $"attention: {text}", [.. views]);
        if (args.Flag("json"))
        {
            var sink = maps.FirstTokenAttention();
            io.Output.WriteLine(CliJson.Serialize(new
            {
                tokens = maps.Labels,
                first_token_attention = Enumerable.Range(0, maps.Layers).Select(l => sink.Values[l]),
                top_heads = pair is (int a, int b) ? maps.TopHeads(a, b, k).Select(s => new { layer = s.Layer, head = s.Head, weight = s.Score }) : null,
                from = pair?.From,
                to = pair?.To,
                map = one is (int l, int h) ? maps.Head(l, h).Values : null,
            }));
        }
        return 0;
    }
}

/// <summary><c>neurons</c>: the most active MLP neurons of a prompt, or where one neuron fires over prompts.</summary>
public sealed class NeuronsCommand : ICommand
{
    public string Name => "neurons";
    public string Usage => $"neurons {ModelArgs.Usage} --layer L (--text TEXT | --neuron N --prompt TEXT [--prompt TEXT ...]) [--k 10] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "layer", "neuron", "prompt", "k", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        args.Require("layer");
        int layer = args.Int("layer", 0, min: 0), k = args.Int("k", 10, min: 1);
        var text = args.Get("text");
        var prompts = args.GetAll("prompt");
        bool byNeuron = args.Get("neuron") is not null;
        if (byNeuron == (text is not null)) throw new UsageException("give --text (top neurons of a prompt) or --neuron with --prompt (where one neuron fires)");
        if (byNeuron && prompts.Count == 0) throw new UsageException("--neuron needs at least one --prompt");
        using var lens = ModelArgs.LoadLens(args, io);
        var neurons = byNeuron ? lens.NeuronTokens(layer, args.Int("neuron", 0, min: 0), prompts, k) : lens.Neurons(text!, layer, k);
        ViewOutput.Write(args, io, "neurons", NeuronsView.Create(neurons));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new { layer, activations = neurons.Activations.Select(f => new { neuron = f.Neuron, prompt = f.Prompt, position = f.Position, token = f.Token, activation = f.Activation }) }));
        return 0;
    }
}

/// <summary><c>pca</c>: a 2-D/3-D view of representations (last token of each text, or a word in it) at one layer.</summary>
public sealed class PcaCommand : ICommand
{
    public string Name => "pca";
    public string Usage => $"pca {ModelArgs.Usage} --layer L --text TEXT --text TEXT [...] [--word W] [--components 2|3] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["layer", "text", "word", "components", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var texts = args.GetAll("text");
        if (texts.Count < 2) throw new UsageException("give at least two --text");
        args.Require("layer");
        int components = args.Int("components", 2, min: 1, max: 3);
        var word = args.Get("word");
        using var lens = ModelArgs.LoadLens(args, io);
        int layer = args.Int("layer", 0, min: 0, max: lens.Config.NumLayers);
        var result = lens.Pca(layer, texts, word, components);
        ViewOutput.Write(args, io, "PCA", PcaView.Create(result));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new
            {
                layer,
                explained_variance_ratio = result.ExplainedVarianceRatio,
                points = texts.Select((t, i) => new { label = t, coordinates = Enumerable.Range(0, result.ExplainedVarianceRatio.Count).Select(c => result.Projected[i, c]) }),
            }));
        return 0;
    }
}
