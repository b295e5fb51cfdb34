using NotebookLens.Inspection;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>neighbors</c>: the tokens nearest to a token or word in the embedding table.</summary>
public sealed class NeighborsCommand : ICommand
{
    public string Name => "neighbors";
    public string Usage => $"neighbors {ModelArgs.Usage} --token TEXT [--k 10] [--table input|output] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["token", "k", "table", HtmlOutput.Option]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var token = args.Require("token");
        int k = args.Int("k", 10, min: 1);
        var table = EmbeddingArgs.Table(args);
        using var lens = ModelArgs.LoadLens(args, io);
        using var space = new EmbeddingSpace(lens, table);
        var query = space.Resolve(token);
        var neighbors = space.Nearest(token, k);
        HtmlOutput.Write(args, io, $"neighbours of {token}", NeighborsView.Create(new NeighborsResult(lens.Ref, token, table, [query], [], neighbors)));
        EmbeddingArgs.Print(io, query, neighbors, args.Flag("json"));
        return 0;
    }
}

/// <summary><c>arithmetic</c>: nearest tokens to a sum and difference of embeddings, e.g. "冷 - cold + small".</summary>
public sealed class ArithmeticCommand : ICommand
{
    public string Name => "arithmetic";
    public string Usage => $"arithmetic {ModelArgs.Usage} --expression \"A - B + C\" [--k 10] [--table input|output] [--keep-inputs] [--json] {HtmlOutput.Usage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["expression", "k", "table", HtmlOutput.Option]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json", "keep-inputs" };

    public int Run(CliArgs args, CliIO io)
    {
        var expression = args.Require("expression");
        var (plus, minus) = EmbeddingSpace.ParseExpression(expression);
        int k = args.Int("k", 10, min: 1);
        var table = EmbeddingArgs.Table(args);
        using var lens = ModelArgs.LoadLens(args, io);
        using var space = new EmbeddingSpace(lens, table);
        var neighbors = space.Arithmetic(plus, minus, k, excludeInputs: !args.Flag("keep-inputs"));
        HtmlOutput.Write(args, io, expression, NeighborsView.Create(new NeighborsResult(lens.Ref, expression, table, plus.Select(space.Resolve).ToList(), minus.Select(space.Resolve).ToList(), neighbors)));
        if (args.Flag("json"))
        {
            io.Output.WriteLine(CliJson.Serialize(new
            {
                plus = plus.Select(p => new { text = p, ids = space.Resolve(p).Ids }),
                minus = minus.Select(m => new { text = m, ids = space.Resolve(m).Ids }),
                neighbors = EmbeddingArgs.Json(neighbors),
            }));
            return 0;
        }
        io.Output.WriteLine($"{string.Join(" + ", plus)}{string.Concat(minus.Select(m => " - " + m))}:");
        EmbeddingArgs.Table(io, neighbors);
        return 0;
    }
}

static class EmbeddingArgs
{
    public static EmbeddingTable Table(CliArgs args) => args.Get("table") switch
    {
        null or "input" => EmbeddingTable.Input,
        "output" => EmbeddingTable.Output,
        var other => throw new UsageException($"--table must be input or output, not '{other}'"),
    };

    public static object Json(IEnumerable<Neighbor> neighbors) =>
        neighbors.Select(n => new { id = n.Id, text = n.Text, token = n.Token, similarity = n.Similarity });

    public static void Print(CliIO io, EmbeddingQuery query, IReadOnlyList<Neighbor> neighbors, bool json)
    {
        if (json)
        {
            io.Output.WriteLine(CliJson.Serialize(new { query = query.Text, ids = query.Ids, neighbors = Json(neighbors) }));
            return;
        }
        io.Output.WriteLine($"nearest to \"{query.Text}\" (ids {string.Join(", ", query.Ids)}{(query.Ids.Count > 1 ? ", averaged" : "")}):");
        Table(io, neighbors);
    }

    public static void Table(CliIO io, IEnumerable<Neighbor> neighbors)
    {
        foreach (var n in neighbors)
            io.Output.WriteLine($"  {n.Similarity,7:F4}  {n.Id,7}  {TerminalText.PadRight(TerminalText.Quote(n.Text), 20)}  {n.Token}");
    }
}
