using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace NotebookLens.Interactive.Tests;

/// <summary>A notebook run top to bottom in dotnet-repl (what Jupyter-style batch runs use), and what its saved outputs hold.</summary>
static class ReplNotebook
{
    /// <summary>One cell: its code and the kernel its picker names (a connected kernel's name runs it there).</summary>
    public sealed record Cell(string Code, string Kernel = "csharp");

    /// <summary>Runs the cells and returns each cell's outputs (display data, results and errors) as one text; fails if dotnet-repl fails.</summary>
    public static async Task<(IReadOnlyList<string> Outputs, IReadOnlyList<bool> Errors)> RunAsync(PackedFeed feed, IReadOnlyList<Cell> cells, ITestOutputHelper log, string name = "nb")
    {
        var notebook = Path.Combine(feed.WorkFolder, $"{name}.ipynb");
        var output = Path.Combine(feed.WorkFolder, $"{name}-out.ipynb");
        File.WriteAllText(notebook, Notebook(cells));
        var clock = Stopwatch.StartNew();
        var (exit, console) = await feed.RunAsync("dotnet",
            ["tool", "run", "dotnet-repl", "--", "--run", notebook, "--exit-after-run", "--output-path", output, "--output-format", "ipynb"]);
        log.WriteLine($"dotnet-repl: {clock.Elapsed.TotalSeconds:F0} s, exit {exit}\n{console}");
        Assert.Equal(0, exit);
        var saved = JsonNode.Parse(File.ReadAllText(output))!["cells"]!.AsArray();
        Assert.Equal(cells.Count, saved.Count);
        var outputs = saved.Select(cell => string.Join("\n", cell!["outputs"]!.AsArray().SelectMany(o => Values(o!)))).ToList();
        var errors = saved.Select(cell => cell!["outputs"]!.AsArray().Any(o => o!["output_type"]?.GetValue<string>() == "error")).ToList();
        return (outputs, errors);
    }

    public sealed record Trace(string Type, string? Mode, string? Symbol);

    /// <summary>The traces of every Plotly chart in an output, from the data Plotly.NET wrote into each chart's script (<c>var data = [...];</c>).</summary>
    public static IReadOnlyList<IReadOnlyList<Trace>> Charts(string html) => html.Split('\n').Select(line => line.Trim())
        .Where(line => line.StartsWith("var data = [", StringComparison.Ordinal))
        .Select(line => (IReadOnlyList<Trace>)JsonNode.Parse(line["var data = ".Length..].TrimEnd(';'))!.AsArray().Select(t => new Trace(
            t!["type"]!.GetValue<string>(), t["mode"]?.GetValue<string>(), t["marker"]?["symbol"]?.GetValue<string>())).ToList())
        .ToList();

    /// <summary>Every output's text: display data, results and errors.</summary>
    static IEnumerable<string> Values(JsonNode output)
    {
        if (output["data"] is JsonObject data)
            foreach (var (_, value) in data)
                yield return value is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : value!.ToString();
        if (output["text"] is { } text) yield return text.ToString();
        if (output["evalue"] is { } error) yield return error.ToString();
    }

    static string Notebook(IEnumerable<Cell> cells) => new JsonObject
    {
        ["cells"] = new JsonArray([.. cells.Select(cell => (JsonNode)new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = cell.Kernel } },
            ["outputs"] = new JsonArray(),
            ["source"] = cell.Code,
        })]),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
            ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
    }.ToJsonString();
}
