using System.CommandLine;
using NotebookLens.Inspection;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>similarity</c>: how alike a word's hidden states are across sentences, layer by layer.</summary>
public sealed class SimilarityCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _word;
    readonly Option<IReadOnlyList<string>> _sentences;
    readonly Option<int> _occurrence;
    readonly ViewOutput _output;

    public SimilarityCommand(CliIO io) : base(io, "similarity",
        "Compares a word's hidden states across sentences, layer by layer (cosine similarity, raw and normalised): where does the model tell the word's senses apart?",
        "similarity --word apple --sentence \"I ate a juicy apple.\" --sentence \"Grandma baked an apple pie.\" --sentence \"Shares of apple rose today.\"")
    {
        _model = new ModelArgs(this);
        _word = Declare(CliOptions.Text("--word", "W", "The word to follow, as it is written in the sentences.").Required());
        _sentences = Declare(CliOptions.Texts("--sentence", "S", "A sentence with the word; give at least two (--sentence A --sentence B ...).", twoOrMore: true));
        _occurrence = Declare(CliOptions.Int("--occurrence", "N", "Which occurrence of the word in each sentence: 1 is the first.", min: 1).Default(1));
        _output = new ViewOutput(this, json: "{\"items\": [...], \"layers\": [{\"layer\", \"baseline\", \"raw\", \"normalized\"}]}", html: true);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var word = args.GetValue(_word)!;
        int occurrence = args.GetValue(_occurrence);
        using var lens = _model.LoadLens(args, io);
        var result = lens.Similarity(args.GetValue(_sentences)!.Select(s => new WordInContext(s, word, occurrence)).ToList());
        _output.Write(args, io, $"similarity of {word}", [SimilarityView.Create(result)], () => new
            {
                items = result.Items.Select((item, i) => new { sentence = item.Sentence, word = item.Word, occurrence = item.Occurrence, token = result.TokenTexts[i], index = result.TokenIndices[i] }),
                layers = Enumerable.Range(0, result.Layers).Select(l => new
                {
                    layer = l,
                    baseline = result.Baseline[l],
                    raw = result.Raw[l].Values,
                    normalized = result.Normalized[l].Values,
                }),
            });
        return 0;
    }
}

/// <summary><c>lens</c>: the logit lens, what each layer would predict.</summary>
public sealed class LensCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _text;
    readonly Option<int> _k;
    readonly Option<bool> _last, _noFinalNorm;
    readonly Option<IReadOnlyList<string>> _targets;
    readonly ViewOutput _output;

    public LensCommand(CliIO io) : base(io, "lens",
        "The logit lens: what each layer would predict as the next token if the model stopped there, for every position of a text.",
        "lens --text \"The weather is really\" --last --k 3", "lens --text \"The apple is green\" --target Ġgreen")
    {
        _model = new ModelArgs(this);
        _text = Declare(CliOptions.Text("--text", "TEXT", "The prompt to look at.").Required());
        _k = Declare(CliOptions.Int("--k", "N", "How many top predictions to show per layer and position.", min: 1).Default(3));
        _last = Declare(CliOptions.Flag("--last", "Only the last position: the prediction of the next token."));
        _noFinalNorm = Declare(CliOptions.Flag("--no-final-norm", "Unembed each layer's hidden state as it is, without the model's final norm first."));
        _targets = Declare(CliOptions.Texts("--target", "TOKEN", "A token to follow through the layers (its rank and probability); repeat for more."));
        _output = new ViewOutput(this, json: "{\"layers\", \"positions\", \"top\": per layer and position the top tokens, \"targets\"}", html: true);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var text = args.GetValue(_text)!;
        var options = new LogitLensOptions
        {
            TopK = args.GetValue(_k),
            LastPositionOnly = args.GetValue(_last),
            ApplyFinalNorm = !args.GetValue(_noFinalNorm),
            Targets = args.GetValue(_targets) ?? [],
        };
        using var lens = _model.LoadLens(args, io);
        var result = lens.LogitLens(text, options);
        _output.Write(args, io, $"logit lens: {text}", [LogitLensView.Create(result)], () => new
            {
                final_norm = result.FinalNormApplied,
                layers = result.LayerLabels,
                positions = result.PositionLabels,
                top = result.Top.Select(row => row.Select(cell => cell.Select(p => new { id = p.Id, text = p.Text, prob = p.Probability, logit = p.Logit }))),
                targets = result.Targets.ToDictionary(t => t.Key, t => t.Value.Select(row => row.Select(x => new { rank = x.Rank, prob = x.Probability }))),
            });
        return 0;
    }
}

/// <summary><c>attention</c>: attention maps and the heads that matter.</summary>
public sealed class AttentionCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _text, _from, _to;
    readonly Option<int?> _layer, _head;
    readonly Option<int> _k;
    readonly ViewOutput _output;

    public AttentionCommand(CliIO io) : base(io, "attention",
        "Shows where attention heads look: every head's map at a glance, how much each head attends to the first token, "
        + "the heads that look most from one word back to another (--from, --to), and one head's map (--layer, --head).",
        "attention --text \"The ball is green. The ball has the color\" --from color --to green --k 3",
        "attention --text \"The cat sat on the mat\" --layer 2 --head 1 --html attention.html")
    {
        _model = new ModelArgs(this);
        _text = Declare(CliOptions.Text("--text", "TEXT", "The prompt to look at.").Required());
        _from = Declare(CliOptions.Text("--from", "WORD", "With --to: list the heads that attend most from this word (its last token) ..."));
        _to = Declare(CliOptions.Text("--to", "WORD", "... back to this word."));
        _layer = Declare(CliOptions.OptionalInt("--layer", "L", "With --head: show this layer's head's full attention map (layers count from 0)."));
        _head = Declare(CliOptions.OptionalInt("--head", "H", "The head of --layer to show (heads count from 0)."));
        _k = Declare(CliOptions.Int("--k", "N", "How many heads to list for --from and --to.", min: 1).Default(5));
        _output = new ViewOutput(this, json: "{\"tokens\", \"first_token_attention\", \"top_heads\", \"map\"}", html: true);
        Check(r => (r.GetValue(_from) is null) != (r.GetValue(_to) is null) ? "--from and --to go together" : null);
        Check(r => (r.GetValue(_layer) is null) != (r.GetValue(_head) is null) ? "--layer and --head go together" : null);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var text = args.GetValue(_text)!;
        string? from = args.GetValue(_from), to = args.GetValue(_to);
        int k = args.GetValue(_k);
        (int Layer, int Head)? one = args.GetValue(_layer) is int oneLayer ? (oneLayer, args.GetValue(_head)!.Value) : null;
        using var lens = _model.LoadLens(args, io);
        var maps = lens.Attention(text);
        (int From, int To)? pair = from is null ? null : (maps.Prompt.Locate(from), maps.Prompt.Locate(to!));
        var views = new List<View> { AttentionView.Grid(maps), AttentionView.FirstToken(maps) };
        if (pair is (int f, int t)) views.Add(AttentionView.TopHeads(maps, f, t, k));
        if (one is (int layer, int head)) views.Add(AttentionView.Head(maps, layer, head));
        _output.Write(args, io, $"attention: {text}", views, () =>
        {
            var sink = maps.FirstTokenAttention();
            return new
            {
                tokens = maps.Labels,
                first_token_attention = Enumerable.Range(0, maps.Layers).Select(l => sink.Values[l]),
                top_heads = pair is (int a, int b) ? maps.TopHeads(a, b, k).Select(s => new { layer = s.Layer, head = s.Head, weight = s.Score }) : null,
                from = pair?.From,
                to = pair?.To,
                map = one is (int l, int h) ? maps.Head(l, h).Values : null,
            };
        });
        return 0;
    }
}

/// <summary><c>neurons</c>: the most active MLP neurons of a prompt, or where one neuron fires over prompts.</summary>
public sealed class NeuronsCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<int> _layer, _k;
    readonly Option<string> _text;
    readonly Option<int?> _neuron;
    readonly Option<IReadOnlyList<string>> _prompts;
    readonly ViewOutput _output;

    public NeuronsCommand(CliIO io) : base(io, "neurons",
        "The most active neurons of one layer's MLP for a prompt (--text), or where one neuron fires, token by token, over prompts (--neuron with --prompt).",
        "neurons --layer 2 --text \"The weather is really nice\"", "neurons --layer 2 --neuron 17 --prompt \"hello world\" --prompt \"good morning\"")
    {
        _model = new ModelArgs(this);
        _layer = Declare(CliOptions.Int("--layer", "L", "The layer whose MLP neurons to look at (layers count from 0).").Required());
        _text = Declare(CliOptions.Text("--text", "TEXT", "List the neurons most active anywhere in this prompt."));
        _neuron = Declare(CliOptions.OptionalInt("--neuron", "N", "Instead of --text: show where this neuron fires over the --prompt texts."));
        _prompts = Declare(CliOptions.Texts("--prompt", "TEXT", "A prompt for --neuron; repeat for more."));
        _k = Declare(CliOptions.Int("--k", "N", "How many neurons (or, with --neuron, token positions) to list.", min: 1).Default(10));
        _output = new ViewOutput(this, json: "{\"layer\", \"activations\": [{\"neuron\", \"prompt\", \"position\", \"token\", \"activation\"}]}", html: true);
        Check(r => (r.GetValue(_neuron) is not null) == (r.GetValue(_text) is not null)
            ? "give --text (top neurons of a prompt) or --neuron with --prompt (where one neuron fires)"
            : r.GetValue(_neuron) is not null && r.GetValue(_prompts) is not { Count: > 0 } ? "--neuron needs at least one --prompt" : null);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        int layer = args.GetValue(_layer), k = args.GetValue(_k);
        using var lens = _model.LoadLens(args, io);
        var neurons = args.GetValue(_neuron) is int neuron ? lens.NeuronTokens(layer, neuron, args.GetValue(_prompts)!, k) : lens.Neurons(args.GetValue(_text)!, layer, k);
        _output.Write(args, io, "neurons", [NeuronsView.Create(neurons)], () => new { layer, activations = neurons.Activations.Select(f => new { neuron = f.Neuron, prompt = f.Prompt, position = f.Position, token = f.Token, activation = f.Activation }) });
        return 0;
    }
}

/// <summary><c>pca</c>: a 2-D/3-D view of representations (last token of each text, or a word in it) at one layer.</summary>
public sealed class PcaCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<int> _layer, _components;
    readonly Option<IReadOnlyList<string>> _texts;
    readonly Option<string> _word;
    readonly ViewOutput _output;

    public PcaCommand(CliIO io) : base(io, "pca",
        "Projects the hidden states of several texts at one layer onto their two or three main directions (PCA), to see which texts the model puts close together.",
        "pca --layer 3 --text \"apple pie\" --text \"apple phone\" --text \"an apple a day\" --word apple")
    {
        _model = new ModelArgs(this);
        _layer = Declare(CliOptions.Int("--layer", "L", "Which hidden states: 0 is the embeddings, L the output of layer L (up to the number of layers).").Required());
        _texts = Declare(CliOptions.Texts("--text", "TEXT", "A text; give at least two (--text A --text B ...). Its last token's hidden state is used.", twoOrMore: true));
        _word = Declare(CliOptions.Text("--word", "W", "Use this word's hidden state in each text instead of the last token's."));
        _components = Declare(CliOptions.Int("--components", "2|3", "How many main directions to project onto.", min: 1, max: 3).Default(2));
        _output = new ViewOutput(this, json: "{\"layer\", \"explained_variance_ratio\", \"points\": [{\"label\", \"coordinates\"}]}", html: true);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var texts = args.GetValue(_texts)!;
        using var lens = _model.LoadLens(args, io);
        // The model's number of layers is known only now.
        int layer = args.GetValue(_layer);
        if (layer > lens.Config.NumLayers) throw CliOptions.NotAWholeNumber("--layer", $"{layer}", 0, lens.Config.NumLayers);
        var result = lens.Pca(layer, texts, args.GetValue(_word), args.GetValue(_components));
        _output.Write(args, io, "PCA", [PcaView.Create(result)], () => new
            {
                layer,
                explained_variance_ratio = result.ExplainedVarianceRatio,
                points = texts.Select((t, i) => new { label = t, coordinates = Enumerable.Range(0, result.ExplainedVarianceRatio.Count).Select(c => result.Projected[i, c]) }),
            });
        return 0;
    }
}
