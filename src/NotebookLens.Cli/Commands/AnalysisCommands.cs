using System.Globalization;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Views;
using static TorchSharp.torch;

namespace NotebookLens.Cli.Commands;

/// <summary><c>similarity</c>: how alike a word's hidden states are across sentences, layer by layer.</summary>
public sealed class SimilarityCommand : ICommand
{
    public string Name => "similarity";
    public string Usage => $"similarity {ModelArgs.Usage} --word W --sentence S --sentence S [...] [--occurrence N] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["word", "sentence", "occurrence", HtmlOutput.Option]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var word = args.Require("word");
        var sentences = args.GetAll("sentence");
        if (sentences.Count < 2) throw new UsageException("give at least two --sentence");
        int occurrence = args.Int("occurrence", 1, min: 1);
        using var lens = ModelArgs.LoadLens(args, io);
        var result = lens.Similarity(sentences.Select(s => new WordInContext(s, word, occurrence)).ToList());
        HtmlOutput.Write(args, io, $"similarity of {word}", SimilarityView.Create(result));
        var pairs = (from i in Enumerable.Range(0, sentences.Count) from j in Enumerable.Range(0, sentences.Count) where i < j select (i, j)).ToList();
        if (args.Flag("json"))
        {
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
        for (int i = 0; i < sentences.Count; i++) io.Output.WriteLine($"[{i + 1}] {sentences[i]}   (token {result.TokenIndices[i]}: {TerminalText.Quote(result.TokenTexts[i])})");
        io.Output.WriteLine("hidden_states[l]: l = 0 is the embedding output; raw cosine / normalized by the layer's mean token-pair similarity");
        io.Output.WriteLine($"{"layer",5} {"baseline",9}  " + string.Join("  ", pairs.Select(p => $"{p.i + 1}~{p.j + 1} raw / norm".PadLeft(19))));
        for (int l = 0; l < result.Layers; l++)
            io.Output.WriteLine($"{l,5} {result.Baseline[l],9:F4}  " + string.Join("  ", pairs.Select(p => $"{result.Raw[l][p.i, p.j],8:F4} / {result.Normalized[l][p.i, p.j],8:F4}")));
        return 0;
    }

}

/// <summary><c>lens</c>: the logit lens, what each layer would predict.</summary>
public sealed class LensCommand : ICommand
{
    public string Name => "lens";
    public string Usage => $"lens {ModelArgs.Usage} --text TEXT [--k 3] [--last] [--no-final-norm] [--target TOKEN ...] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "k", "target", HtmlOutput.Option]).ToHashSet();
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
        HtmlOutput.Write(args, io, $"logit lens: {text}", LogitLensView.Create(result));
        if (args.Flag("json"))
        {
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
        io.Output.WriteLine(result.FinalNormApplied
            ? "each layer's residual stream through the final norm and the LM head (last row = the model's prediction)"
            : "each layer's raw residual stream through the LM head, without the final norm");
        int last = result.PositionLabels.Count - 1;
        io.Output.WriteLine($"position {last}: {TerminalText.Quote(result.PositionLabels[last])} → next token, top {options.TopK} per layer");
        for (int row = 0; row < result.LayerLabels.Count; row++)
        {
            var cells = result.Top[row][last].Select(p => $"{TerminalText.Quote(p.Text)} {p.Probability:F3}");
            var targets = result.Targets.Select(t => $"{t.Key}: rank {t.Value[row][last].Rank}");
            io.Output.WriteLine($"{result.LayerLabels[row],6}  {string.Join("  ", cells)}{(result.Targets.Count > 0 ? "   | " + string.Join(", ", targets) : "")}");
        }
        return 0;
    }
}

/// <summary><c>attention</c>: attention maps and the heads that matter.</summary>
public sealed class AttentionCommand : ICommand
{
    public string Name => "attention";
    public string Usage => $"attention {ModelArgs.Usage} --text TEXT [--layer L --head H] [--from WORD --to WORD] [--k 5] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "layer", "head", "from", "to", "k", HtmlOutput.Option]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var text = args.Require("text");
        string? from = args.Get("from"), to = args.Get("to"), layerText = args.Get("layer"), headText = args.Get("head");
        if ((from is null) != (to is null)) throw new UsageException("--from and --to go together");
        if ((layerText is null) != (headText is null)) throw new UsageException("--layer and --head go together");
        int k = args.Int("k", 5, min: 1);
        using var lens = ModelArgs.LoadLens(args, io);
        var maps = lens.Attention(text);
        var sink = maps.FirstTokenAttention();
        int? fromIndex = from is null ? null : maps.Prompt.Locate(from), toIndex = to is null ? null : maps.Prompt.Locate(to!);
        var top = fromIndex is int f && toIndex is int t ? maps.TopHeads(f, t, k) : null;
        var head = layerText is null ? null : maps.Head(args.Int("layer", 0), args.Int("head", 0));
        HtmlOutput.Write(args, io, $"attention: {text}", new[] { AttentionView.Grid(maps), AttentionView.FirstToken(maps) }
            .Concat(fromIndex is int a && toIndex is int b ? [AttentionView.TopHeads(maps, a, b, k)] : [])
            .Concat(head is null ? [] : [AttentionView.Head(maps, args.Int("layer", 0), args.Int("head", 0))]).ToArray());
        if (args.Flag("json"))
        {
            io.Output.WriteLine(CliJson.Serialize(new
            {
                tokens = maps.Labels,
                first_token_attention = Enumerable.Range(0, maps.Layers).Select(l => sink.Values[l]),
                top_heads = top?.Select(s => new { layer = s.Layer, head = s.Head, weight = s.Score }),
                from = fromIndex,
                to = toIndex,
                map = head?.Values,
            }));
            return 0;
        }
        io.Output.WriteLine("tokens: " + string.Join(" ", maps.Labels.Select((l, i) => $"{i}:{TerminalText.Quote(l)}")));
        io.Output.WriteLine("mean attention to the first token (rows: layers, columns: heads)");
        for (int l = 0; l < maps.Layers; l++)
            io.Output.WriteLine($"  layer {l,2}  " + string.Join(" ", sink.Values[l].Select(v => v.ToString("F2", CultureInfo.InvariantCulture))));
        if (top is not null)
        {
            io.Output.WriteLine($"heads attending most from {fromIndex}:{TerminalText.Quote(maps.Labels[fromIndex!.Value])} to {toIndex}:{TerminalText.Quote(maps.Labels[toIndex!.Value])}");
            foreach (var s in top) io.Output.WriteLine($"  layer {s.Layer,2} head {s.Head,2}  {s.Score:F4}");
        }
        if (head is not null)
        {
            io.Output.WriteLine($"layer {layerText} head {headText} (rows attend to columns)");
            for (int i = 0; i < head.RowCount; i++)
                io.Output.WriteLine($"  {TerminalText.PadRight(TerminalText.Quote(maps.Labels[i]), 16)} " + string.Join(" ", head.Values[i].Select(v => v.ToString("F2", CultureInfo.InvariantCulture))));
        }
        return 0;
    }
}

/// <summary><c>neurons</c>: the most active MLP neurons of a prompt, or where one neuron fires over prompts.</summary>
public sealed class NeuronsCommand : ICommand
{
    public string Name => "neurons";
    public string Usage => $"neurons {ModelArgs.Usage} --layer L (--text TEXT | --neuron N --prompt TEXT [--prompt TEXT ...]) [--k 10] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["text", "layer", "neuron", "prompt", "k", HtmlOutput.Option]).ToHashSet();
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
        HtmlOutput.Write(args, io, "neurons", NeuronsView.Create(neurons));
        var found = neurons.Activations;
        if (args.Flag("json"))
        {
            io.Output.WriteLine(CliJson.Serialize(new { layer, activations = found.Select(f => new { neuron = f.Neuron, prompt = f.Prompt, position = f.Position, token = f.Token, activation = f.Activation }) }));
            return 0;
        }
        io.Output.WriteLine(byNeuron ? $"layer {layer}, neuron {found.FirstOrDefault()?.Neuron}: strongest tokens" : $"layer {layer}: most active neurons");
        foreach (var f in found)
            io.Output.WriteLine($"  neuron {f.Neuron,6}  {f.Activation,9:F4}  prompt {f.Prompt} token {f.Position} {TerminalText.Quote(f.Token)}");
        return 0;
    }
}

/// <summary><c>pca</c>: a 2-D/3-D view of representations (last token of each text, or a word in it) at one layer.</summary>
public sealed class PcaCommand : ICommand
{
    public string Name => "pca";
    public string Usage => $"pca {ModelArgs.Usage} --layer L --text TEXT --text TEXT [...] [--word W] [--components 2|3] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["layer", "text", "word", "components", HtmlOutput.Option]).ToHashSet();
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
        HtmlOutput.Write(args, io, "PCA", PcaView.Create(result));
        int k = result.ExplainedVarianceRatio.Count;
        if (args.Flag("json"))
        {
            io.Output.WriteLine(CliJson.Serialize(new
            {
                layer,
                explained_variance_ratio = result.ExplainedVarianceRatio,
                points = texts.Select((t, i) => new { label = t, coordinates = Enumerable.Range(0, k).Select(c => result.Projected[i, c]) }),
            }));
            return 0;
        }
        io.Output.WriteLine($"hidden_states[{layer}], explained variance {string.Join(", ", result.ExplainedVarianceRatio.Select(r => r.ToString("P1", CultureInfo.InvariantCulture)))}");
        for (int i = 0; i < texts.Count; i++)
            io.Output.WriteLine($"  {string.Join(" ", Enumerable.Range(0, k).Select(c => result.Projected[i, c].ToString("+0.000;-0.000", CultureInfo.InvariantCulture)))}  {texts[i]}");
        return 0;
    }
}
