using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookLens.Tokenization;
using Xunit.Abstractions;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// The package in the real hosts: build/pack.sh makes the feed, then a notebook runs in dotnet-repl (what Jupyter-style
/// batch runs use) and commands go through <c>dotnet-interactive stdio</c> (VS Code's host), both with a package
/// cache made for this run, so the package restores the way a student's first use does.
/// </summary>
public sealed class HostTests(PackedFeed feed, ITestOutputHelper log) : IClassFixture<PackedFeed>
{
    const string Text = "Hello world";

    [Fact]
    public async Task A_notebook_runs_in_dotnet_repl()
    {
        var llama = Repo.Fixture("llama3-tiny");
        string[] cells =
        [
            feed.Reference,
            $"#!model tokens \"{Text}\" --as tokens",
            "tokens.Count",
            $"#!model load {llama} --name llama",
            "llama.Config.NumLayers",
            "#!model list",
            // What Plotly.NET 6 asks for; the host ships an older FSharp.Core, which the extension hands back.
            "System.Reflection.Assembly.Load(\"FSharp.Core, Version=10.1.0.0\").GetName().Version.ToString()",
            // A Plotly.NET heatmap drawn inside the host.
            "#!model weights model.layers.0.mlp.up_proj.weight --rows 16 --cols 16 --model tiny",
            // A core result returned from C# shows its view (the formatters).
            "tiny.Prompt(\"Hello\")",
            // Every other Plotly chart type the views draw: lines, bars, labelled points, and lines with a starred point.
            "#!model similarity apple --sentence \"I ate an apple.|She baked an apple pie.\" --model tiny",
            "#!model temperature \"The weather is really\" --t 0.5,2 --model tiny",
            "#!model pca --layer 3 --text \"I ate an apple.|Apple makes phones.|A red apple.\" --model tiny",
            "#!model refusal --layer 2 --n-train 2 --n-val 2 --n-test 1 --max-new-tokens 2 --kl-threshold none --steering-threshold none --model tiny",
        ];
        var (outputs, errors) = await ReplNotebook.RunAsync(feed, [.. cells.Select(code => new ReplNotebook.Cell(code))], log);
        Assert.DoesNotContain(true, errors);
        Assert.All(outputs, Assert.NotEmpty);
        Assert.Contains("interactive-extensions/dotnet/NotebookLens.Interactive.dll", outputs[0]);
        var expected = HfTokenizer.Load("tiny").Tokenize(Text);
        TokenView.AssertChips(outputs[1], expected);
        Assert.Contains($"<pre>{expected.Count}</pre>", outputs[2]);
        Assert.Contains("Loaded", outputs[3]);
        Assert.Contains($"<pre>{Models.ModelConfig.Load(llama).NumLayers}</pre>", outputs[4]);
        Assert.Contains("<td>llama</td>", outputs[5]);
        Assert.StartsWith("10.0.", outputs[6]);
        Assert.Contains("<template", outputs[7]);
        Assert.Contains("Plotly", outputs[7]);
        TokenView.AssertChips(outputs[8], HfTokenizer.Load("tiny").Tokenize("Hello"));

        Assert.Equal(["heatmap"], ReplNotebook.Charts(outputs[7]).SelectMany(c => c).Select(t => t.Type).Distinct());
        var similarity = ReplNotebook.Charts(outputs[9]);
        Assert.Equal(2, similarity.Count); // raw and normalised
        Assert.All(similarity.SelectMany(c => c), t => Assert.Equal(("scatter", "lines+markers"), (t.Type, t.Mode)));
        var temperature = Assert.Single(ReplNotebook.Charts(outputs[10]));
        Assert.Equal(2, temperature.Count); // one bar series per temperature
        Assert.All(temperature, t => Assert.Equal("bar", t.Type));
        var pca = Assert.Single(Assert.Single(ReplNotebook.Charts(outputs[11])));
        Assert.Equal(("scatter", "markers+text"), (pca.Type, pca.Mode));
        var refusal = ReplNotebook.Charts(outputs[12]);
        Assert.Equal(3, refusal.Count); // refusal score, steering score, KL divergence
        Assert.All(refusal, chart =>
        {
            Assert.Contains(chart, t => (t.Type, t.Mode) == ("scatter", "lines+markers"));
            Assert.Contains(chart, t => (t.Type, t.Mode, t.Symbol) == ("scatter", "markers", "star"));
        });
    }

    [Fact]
    public async Task Vs_codes_host_dotnet_interactive_stdio_loads_the_package()
    {
        var clock = Stopwatch.StartNew();
        await using var host = StdioHost.Start(feed);
        var reference = await host.SubmitAsync(feed.Reference);
        Assert.True(reference.Succeeded, reference.Transcript);
        // VS Code's host loads the extension from lib/, not from interactive-extensions/.
        Assert.Contains("lib/net10.0/NotebookLens.Interactive.dll", reference.Transcript);

        var tokens = await host.SubmitAsync($"#!model tokens \"{Text}\"");
        Assert.True(tokens.Succeeded, tokens.Transcript);
        TokenView.AssertChips(Assert.Single(tokens.Formatted("text/html")), HfTokenizer.Load("tiny").Tokenize(Text));

        var failure = await host.SubmitAsync("#!model tokens \"hi\" --bogus 1");
        Assert.False(failure.Succeeded);
        Assert.Contains("Unknown option '--bogus'", failure.Transcript);
        log.WriteLine($"dotnet-interactive stdio: {clock.Elapsed.TotalSeconds:F0} s");
    }
}
