using NotebookLens.Inspection;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>neighbors</c>: the tokens nearest to a token or word in the embedding table.</summary>
public sealed class NeighborsCommand : ICommand
{
    public string Name => "neighbors";
    public string Usage => $"neighbors {ModelArgs.Usage} --token TEXT [--k 10] [--table input|output] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["token", "k", "table", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var token = args.Require("token");
        int k = args.Int("k", 10, min: 1);
        var table = EmbeddingArgs.Table(args);
        using var lens = ModelArgs.LoadLens(args, io);
        var result = lens.Neighbors(token, k, table);
        ViewOutput.Write(args, io, $"neighbours of {token}", NeighborsView.Create(result));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new { query = result.Plus[0].Text, ids = result.Plus[0].Ids, neighbors = EmbeddingArgs.Json(result.Neighbors) }));
        return 0;
    }
}

/// <summary><c>arithmetic</c>: nearest tokens to a sum and difference of embeddings, e.g. "冷 - cold + small".</summary>
public sealed class ArithmeticCommand : ICommand
{
    public string Name => "arithmetic";
    public string Usage => $"arithmetic {ModelArgs.Usage} --expression \"A - B + C\" [--k 10] [--table input|output] [--keep-inputs] [--json] {ViewOutput.HtmlUsage}";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["expression", "k", "table", ViewOutput.HtmlOption]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json", "keep-inputs" };

    public int Run(CliArgs args, CliIO io)
    {
        var expression = args.Require("expression");
        var (plus, minus) = EmbeddingSpace.ParseExpression(expression);
        int k = args.Int("k", 10, min: 1);
        var table = EmbeddingArgs.Table(args);
        using var lens = ModelArgs.LoadLens(args, io);
        using var space = new EmbeddingSpace(lens, table);
        var result = new NeighborsResult(lens.Ref, expression, table, plus.Select(space.Resolve).ToList(), minus.Select(space.Resolve).ToList(),
            space.Arithmetic(plus, minus, k, excludeInputs: !args.Flag("keep-inputs")));
        ViewOutput.Write(args, io, expression, NeighborsView.Create(result));
        if (args.Flag("json"))
            io.Output.WriteLine(CliJson.Serialize(new
            {
                plus = result.Plus.Select(p => new { text = p.Text, ids = p.Ids }),
                minus = result.Minus.Select(m => new { text = m.Text, ids = m.Ids }),
                neighbors = EmbeddingArgs.Json(result.Neighbors),
            }));
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
}
