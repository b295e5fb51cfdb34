using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace NotebookLens.Notebooks.Tests;

/// <summary>Every notebook in notebooks/ follows the shared format and runs in both runners without a cell error.</summary>
[Collection(NotebookCollection.Name)]
public sealed class EveryNotebookTests(NotebookRuns runs, ITestOutputHelper log)
{
    public static TheoryData<string, Runner> Runs()
    {
        var data = new TheoryData<string, Runner>();
        foreach (var name in NotebookRuns.Names)
            foreach (var runner in Enum.GetValues<Runner>()) data.Add(name, runner);
        return data;
    }

    public static TheoryData<string> Names() => [.. NotebookRuns.Names];

    [Fact]
    public void There_are_notebooks() => Assert.True(NotebookRuns.Names.Count > 0, $"no .ipynb in {NotebookRuns.Folder}");

    [Theory, MemberData(nameof(Runs))]
    public async Task Runs_without_a_cell_error(string notebook, Runner runner)
    {
        var executed = await runs.Executed(notebook, runner);
        log.WriteLine($"{notebook} in {runner}: {executed.Elapsed.TotalSeconds:F1} s");
        executed.AssertRanWithoutErrors();
    }

    /// <summary>What the runners and the checks rely on (notes/notebooks-spec.md), checked on the file itself.</summary>
    [Theory, MemberData(nameof(Names))]
    public void Follows_the_notebook_format(string notebook)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(NotebookRuns.Folder, notebook + ".ipynb")))!;
        Assert.Equal(4, json["nbformat"]!.GetValue<int>());
        Assert.Equal(".net-csharp", json["metadata"]?["kernelspec"]?["name"]?.GetValue<string>());
        var cells = json["cells"]!.AsArray().Select(c => c!).ToList();
        var ids = cells.Select(c => c["id"]?.GetValue<string>()).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrWhiteSpace(id), "every cell needs an id"));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var cell in cells)
        {
            var id = cell["id"]!.GetValue<string>();
            var kernel = cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>();
            if (cell["cell_type"]!.GetValue<string>() == "code")
            {
                // dotnet-repl refuses #r and #i in a cell without it.
                Assert.True(kernel == "csharp", $"code cell \"{id}\" needs metadata.polyglot_notebook.kernelName \"csharp\"");
                Assert.True(cell["outputs"]!.AsArray().Count == 0, $"code cell \"{id}\" is saved with outputs");
            }
            else
            {
                // dotnet-repl runs a markdown cell whose kernelName is "csharp" as C# code.
                Assert.True(kernel is null or "markdown", $"markdown cell \"{id}\" has kernelName \"{kernel}\": dotnet-repl would run it as code");
            }
        }
        Assert.Equal(["reference", "models"], cells.Where(c => c["cell_type"]!.GetValue<string>() == "code").Take(2).Select(c => c["id"]!.GetValue<string>()));
    }
}
