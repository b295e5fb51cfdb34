using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// A notebook as one runner left it, its cells found by the <c>"id"</c> they have in notebooks/NAME.ipynb:
/// <code>
/// var cell = notebook.Cell("neighbors-cold");
/// cell.Html    // every text/html output of the cell, joined (our views: tables, chips, Plotly charts)
/// cell.Text    // every text/plain output and stream text, joined (the views' plain-text form)
/// cell.Errors  // "ename: evalue" of each error output (empty when the cell ran)
/// </code>
/// dotnet-repl writes its executed notebook without cell ids, so cells are matched to the source notebook's by position.
/// A progress display shows up once per update in dotnet-repl and once in Jupyter, so check with Contains, not counts.
/// </summary>
public sealed class ExecutedNotebook
{
    ExecutedNotebook(string name, Runner runner, string path, IReadOnlyList<ExecutedCell> cells, int exit, string log, TimeSpan elapsed)
    {
        Name = name;
        Runner = runner;
        Path = path;
        Cells = cells;
        Exit = exit;
        Log = log;
        Elapsed = elapsed;
    }

    /// <summary>The file name without .ipynb, e.g. <c>03-logit-lens</c>.</summary>
    public string Name { get; }

    public Runner Runner { get; }

    /// <summary>The executed .ipynb the runner wrote.</summary>
    public string Path { get; }

    public IReadOnlyList<ExecutedCell> Cells { get; }

    /// <summary>The runner's exit code and what it printed.</summary>
    public int Exit { get; }

    public string Log { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>The cell with this id; a missing id fails with the ids there are.</summary>
    public ExecutedCell Cell(string id) => Cells.SingleOrDefault(c => c.Id == id)
        ?? throw new KeyNotFoundException($"{Name} has no cell \"{id}\"; its ids: {string.Join(", ", Cells.Select(c => c.Id))}");

    /// <summary>What went wrong: each erroring cell's id and error, or the runner's own failure.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            var failures = Cells.Where(c => c.Errors.Count > 0)
                .Select(c => $"cell \"{c.Id}\" failed: {string.Join("\n", c.Errors)}\n  source: {c.Source.ReplaceLineEndings(" ").Trim()}").ToList();
            // dotnet-repl exits with 2 when a cell errored; anything else non-zero is the runner's own failure.
            bool cellErrorExit = Runner == Runner.DotnetRepl && Exit == 2 && failures.Count > 0;
            if (Exit != 0 && !cellErrorExit) failures.Add($"{Runner} exited with {Exit}:\n{Tail(Log)}");
            return failures;
        }
    }

    /// <summary>Fails with the erroring cells' ids and errors.</summary>
    public void AssertRanWithoutErrors()
    {
        var failures = Failures;
        Assert.True(failures.Count == 0, $"{Name} in {Runner}:\n{string.Join("\n", failures)}");
    }

    static string Tail(string log) => log.Length <= 4000 ? log : "…" + log[^4000..];

    /// <summary>Reads what a runner wrote; cells are matched by position to the source notebook, which gives their ids.</summary>
    public static ExecutedNotebook Read(string source, string executed, Runner runner, int exit, string log, TimeSpan elapsed)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(source);
        if (!File.Exists(executed))
            return new ExecutedNotebook(name, runner, executed, [], exit == 0 ? -1 : exit, $"no executed notebook was written\n{log}", elapsed);
        var sourceCells = ReadCells(source);
        var executedCells = ReadCells(executed);
        Assert.True(sourceCells.Count == executedCells.Count,
            $"{name} in {runner}: {executedCells.Count} cells written for {sourceCells.Count} in the notebook");
        var cells = sourceCells.Zip(executedCells, (s, e) => ExecutedCell.Read(s, e)).ToList();
        return new ExecutedNotebook(name, runner, executed, cells, exit, log, elapsed);
    }

    static List<JsonNode> ReadCells(string path) => [.. JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray().Select(c => c!)];
}

/// <summary>One executed cell: its id and source from the notebook, its outputs from the runner.</summary>
public sealed class ExecutedCell
{
    ExecutedCell(string id, string type, string source, IReadOnlyList<CellOutput> outputs)
    {
        Id = id;
        Type = type;
        Source = source;
        Outputs = outputs;
    }

    public string Id { get; }

    /// <summary><c>code</c> or <c>markdown</c>.</summary>
    public string Type { get; }

    public string Source { get; }

    public IReadOnlyList<CellOutput> Outputs { get; }

    /// <summary>Every text/html output, in order, joined by newlines.</summary>
    public string Html => Join("text/html");

    /// <summary>Every text/plain output and stream text, in order, joined by newlines.</summary>
    public string Text => string.Join("\n", Outputs.Select(o => o.Data.GetValueOrDefault("text/plain") ?? o.Stream).OfType<string>());

    /// <summary>"ename: evalue" of each error output.</summary>
    public IReadOnlyList<string> Errors => [.. Outputs.Select(o => o.Error).OfType<string>()];

    string Join(string mime) => string.Join("\n", Outputs.Select(o => o.Data.GetValueOrDefault(mime)).OfType<string>());

    internal static ExecutedCell Read(JsonNode source, JsonNode executed)
    {
        var type = source["cell_type"]!.GetValue<string>();
        Assert.True(type == executed["cell_type"]!.GetValue<string>(),
            $"cell \"{source["id"]}\" is {type} in the notebook and {executed["cell_type"]} in the runner's output");
        var outputs = executed["outputs"]?.AsArray().Select(o => CellOutput.Read(o!)).ToList() ?? [];
        return new ExecutedCell(source["id"]?.GetValue<string>() ?? "", type, Lines(source["source"]), outputs);
    }

    /// <summary>nbformat keeps multi-line strings either whole or as a list of lines.</summary>
    internal static string Lines(JsonNode? value) => value switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        JsonValue text when text.GetValueKind() == JsonValueKind.String => text.GetValue<string>(),
        _ => value.ToJsonString(),   // e.g. application/json
    };
}

/// <summary>One output: display data or a result (MIME type → text), stream text, or an error.</summary>
public sealed record CellOutput(string OutputType, IReadOnlyDictionary<string, string> Data, string? Stream, string? Error)
{
    internal static CellOutput Read(JsonNode output)
    {
        var data = output["data"] is JsonObject values
            ? values.ToDictionary(v => v.Key, v => ExecutedCell.Lines(v.Value))
            : new Dictionary<string, string>();
        var error = output["ename"] is { } name ? $"{name}: {output["evalue"]}" : null;
        return new CellOutput(output["output_type"]!.GetValue<string>(), data, output["text"] is { } text ? ExecutedCell.Lines(text) : null, error);
    }
}
