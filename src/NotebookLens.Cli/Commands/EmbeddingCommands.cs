using System.CommandLine;
using NotebookLens.Inspection;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>neighbors</c>: the tokens nearest to a token or word in the embedding table.</summary>
public sealed class NeighborsCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _token;
    readonly Option<int> _k;
    readonly Option<EmbeddingTable> _table;
    readonly ViewOutput _output;

    public NeighborsCommand(CliIO io) : base(io, "neighbors",
        "Lists the tokens whose embeddings are nearest (cosine similarity) to a token's: which tokens the model treats as alike before any layer runs.",
        "neighbors --token Ġcold --k 8")
    {
        _model = new ModelArgs(this);
        _token = Declare(CliOptions.Text("--token", "TEXT", "A token as the vocabulary writes it (Ġcold in Llama, ▁cold in Gemma; tokenize shows them) or a word (its tokens' mean).").Required());
        _k = Declare(EmbeddingArgs.Count());
        _table = Declare(EmbeddingArgs.Table());
        _output = new ViewOutput(this, json: "{\"query\", \"ids\", \"neighbors\": [{\"id\", \"text\", \"token\", \"similarity\"}]}", html: true);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var token = args.GetValue(_token)!;
        using var lens = _model.LoadLens(args, io);
        var result = lens.Neighbors(token, args.GetValue(_k), args.GetValue(_table));
        _output.Write(args, io, $"neighbours of {token}", [NeighborsView.Create(result)], () => new { query = result.Plus[0].Text, ids = result.Plus[0].Ids, neighbors = EmbeddingArgs.Json(result.Neighbors) });
        return 0;
    }
}

/// <summary><c>arithmetic</c>: nearest tokens to a sum and difference of embeddings, e.g. "冷 - cold + small".</summary>
public sealed class ArithmeticCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _expression;
    readonly Option<int> _k;
    readonly Option<EmbeddingTable> _table;
    readonly Option<bool> _keepInputs;
    readonly ViewOutput _output;

    public ArithmeticCommand(CliIO io) : base(io, "arithmetic",
        "Adds and subtracts token embeddings and lists the tokens nearest to the result, as in king - man + woman.",
        "arithmetic --expression \"冷 - Ġcold + Ġsmall\" --k 5")
    {
        _model = new ModelArgs(this);
        _expression = Declare(CliOptions.Text("--expression", "\"A - B + C\"", "Tokens or words joined by + and -, with spaces around the signs.").Required());
        _k = Declare(EmbeddingArgs.Count());
        _table = Declare(EmbeddingArgs.Table());
        _keepInputs = Declare(CliOptions.Flag("--keep-inputs", "Also list the expression's own tokens (left out by default: they are often nearest)."));
        _output = new ViewOutput(this, json: "{\"plus\", \"minus\", \"neighbors\": [{\"id\", \"text\", \"token\", \"similarity\"}]}", html: true);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var expression = args.GetValue(_expression)!;
        var (plus, minus) = EmbeddingSpace.ParseExpression(expression);
        var table = args.GetValue(_table);
        using var lens = _model.LoadLens(args, io);
        using var space = new EmbeddingSpace(lens, table);
        var result = new NeighborsResult(lens.Ref, expression, table, plus.Select(space.Resolve).ToList(), minus.Select(space.Resolve).ToList(),
            space.Arithmetic(plus, minus, args.GetValue(_k), excludeInputs: !args.GetValue(_keepInputs)));
        _output.Write(args, io, expression, [NeighborsView.Create(result)], () => new
            {
                plus = result.Plus.Select(p => new { text = p.Text, ids = p.Ids }),
                minus = result.Minus.Select(m => new { text = m.Text, ids = m.Ids }),
                neighbors = EmbeddingArgs.Json(result.Neighbors),
            });
        return 0;
    }
}

/// <summary>What the embedding verbs share: their --k and --table options and the JSON of their neighbours.</summary>
static class EmbeddingArgs
{
    /// <summary>The <c>--k</c> option of the embedding verbs.</summary>
    public static Option<int> Count() => CliOptions.Int("--k", "N", "How many nearest tokens to list.", min: 1).Default(10);

    /// <summary>The <c>--table</c> option of the embedding verbs.</summary>
    public static Option<EmbeddingTable> Table() => CliOptions.Value("--table", "input|output",
        "Which embedding table: input (the token embeddings the model reads) or output (the unembedding that turns the last hidden state into logits).",
        name => name.ToLowerInvariant() switch
        {
            "input" => EmbeddingTable.Input,
            "output" => EmbeddingTable.Output,
            _ => throw new UsageException($"--table must be input or output, not '{name}'"),
        }).Default(EmbeddingTable.Input);

    public static object Json(IEnumerable<Neighbor> neighbors) =>
        neighbors.Select(n => new { id = n.Id, text = n.Text, token = n.Token, similarity = n.Similarity });
}
