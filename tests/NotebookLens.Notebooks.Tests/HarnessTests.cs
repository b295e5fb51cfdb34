using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookLens.Inspection;
using Xunit.Sdk;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// The harness on notebooks of its own, laid out like notebooks/ (artifacts/notebook-tests/scratch/notebooks, its
/// ../artifacts/feed a link to the packed feed): one that follows the format runs in both runners and its cells are
/// found by id; one with an erroring cell fails, naming the cell and its error.
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class HarnessTests(NotebookRuns runs) : IAsyncLifetime
{
    static readonly string Scratch = Path.Combine(NotebookRuns.Output, "scratch");

    readonly HeadlessBrowser _browser = new();

    /// <summary>The two cells every notebook starts with (notes/notebooks-spec.md).</summary>
    const string Reference = """
        var feed = System.IO.Path.GetFullPath("../artifacts/feed");
        await Microsoft.DotNet.Interactive.Kernel.Root.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode(
            $"#i \"nuget: {feed}\"\n#r \"nuget: NotebookLens.Interactive, 0.1.0-dev\"", "csharp"));
        """;

    const string Models = """
        var lectureModels = false;
        var llamaSource = lectureModels ? "meta-llama/Llama-3.2-3B-Instruct" : "tiny";
        """;

    const string LensText = "今天天氣真";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Scratch, "notebooks"));
        var feed = Path.Combine(Scratch, "artifacts", "feed");
        Directory.CreateDirectory(Path.GetDirectoryName(feed)!);
        // This run's feed is the fixture's copy: a link left by an earlier run points at a folder that run deleted.
        if (new FileInfo(feed).LinkTarget is { } target && target != runs.Feed.Feed) File.Delete(feed);
        if (!Path.Exists(feed)) Directory.CreateSymbolicLink(feed, runs.Feed.Feed);
        await _browser.InitializeAsync();
    }

    public Task DisposeAsync() => _browser.DisposeAsync();

    /// <summary>A notebook in the shared format: a markdown cell, <c>reference</c>, <c>models</c>, then these code cells.</summary>
    static string Write(string name, params (string Id, string Code)[] cells)
    {
        var polyglot = () => new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } };
        JsonNode Code(string id, string code) => new JsonObject
        {
            ["cell_type"] = "code", ["execution_count"] = null, ["id"] = id, ["metadata"] = polyglot(), ["outputs"] = new JsonArray(), ["source"] = code,
        };
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray([
                new JsonObject { ["cell_type"] = "markdown", ["id"] = "intro", ["metadata"] = new JsonObject(), ["source"] = "# A test notebook" },
                Code("reference", Reference), Code("models", Models), .. cells.Select(c => Code(c.Id, c.Code))]),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
                ["polyglot_notebook"] = new JsonObject
                {
                    ["kernelInfo"] = new JsonObject { ["defaultKernelName"] = "csharp", ["items"] = new JsonArray(new JsonObject { ["name"] = "csharp", ["aliases"] = new JsonArray() }) },
                },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        var path = Path.Combine(Scratch, "notebooks", name + ".ipynb");
        // Every test asks for it; rewriting it could cut it short under a runner that is reading it.
        var json = notebook.ToJsonString();
        if (!File.Exists(path) || File.ReadAllText(path) != json) File.WriteAllText(path, json);
        return path;
    }

    static string Working() => Write("scratch-working",
        ("load", "#!model load @csharp:llamaSource --name llama"),
        ("lens", $"#!model lens \"{LensText}\" --last"),
        ("similarity", "#!model similarity apple --sentence \"I ate an apple.|Shares of apple rose.\""),
        ("layers", "llama.Config.NumLayers"));

    static string Broken() => Write("scratch-broken",
        ("broken", "throw new System.InvalidOperationException(\"deliberately broken\");"),
        ("after", "1 + 1"));

    [Theory, Runners]
    public async Task A_notebook_in_the_format_runs_and_its_cells_are_found_by_id(Runner runner)
    {
        var notebook = await runs.ExecutedFile(Working(), runner);
        notebook.AssertRanWithoutErrors();
        // The reference cell found ../artifacts/feed from the notebook's folder.
        Assert.Contains("NotebookLens.Interactive, 0.1.0-dev", notebook.Cell("reference").Html);
        Assert.Contains($"<pre>{TinyModel.Lens.Config.NumLayers}</pre>", notebook.Cell("layers").Html);
        // Each lens row (the embedding, then every layer) names the core API's top token at the last position.
        var lens = TinyModel.Lens.LogitLens(LensText, new LogitLensOptions { LastPositionOnly = true });
        var rows = notebook.Cell("lens").Text.Split('\n').Select(l => l.Trim()).ToList();
        for (int row = 0; row < lens.LayerLabels.Count; row++)
        {
            var top = lens.Top[row][0][0];
            var pattern = $@"^{Regex.Escape(lens.LayerLabels[row])}\s+{Regex.Escape(top.Text)} {top.Probability.ToString("F2", CultureInfo.InvariantCulture)}$";
            Assert.True(rows.Any(r => Regex.IsMatch(r, pattern)), $"no row like {pattern} in\n{string.Join("\n", rows)}");
        }
        Assert.Contains("nl-chart", notebook.Cell("similarity").Html);
        Assert.Throws<KeyNotFoundException>(() => notebook.Cell("no-such-cell"));
    }

    [Theory, Runners]
    public async Task A_cell_error_fails_the_notebook_naming_the_cell_and_its_error(Runner runner)
    {
        var notebook = await runs.ExecutedFile(Broken(), runner);
        var failure = Assert.Throws<TrueException>(notebook.AssertRanWithoutErrors);
        Assert.Contains("cell \"broken\" failed", failure.Message);
        Assert.Contains("deliberately broken", failure.Message);
        Assert.DoesNotContain("\"after\"", failure.Message);
        Assert.Empty(notebook.Cell("models").Errors);
    }

    [Fact]
    public async Task The_exported_page_draws_its_chart_offline()
    {
        var notebook = await runs.ExecutedFile(Working(), Runner.DotnetRepl);
        notebook.AssertRanWithoutErrors();
        var written = Regex.Count(notebook.Cell("similarity").Html, "<div class=\"nl-chart\"");
        Assert.True(written > 0, "the similarity cell wrote no chart");
        var (opened, charts) = await NotebookPage.OpenDrawnAsync(_browser, await NotebookPage.ExportAsync(runs.Feed, notebook));
        Assert.Equal(written, charts);
        await opened.ScreenshotAsync("notebook-scratch");
    }
}
