using System.Diagnostics;
using System.Text;
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
        var notebook = Path.Combine(feed.WorkFolder, "nb.ipynb");
        var output = Path.Combine(feed.WorkFolder, "out.ipynb");
        File.WriteAllText(notebook, Notebook(cells));
        var clock = Stopwatch.StartNew();
        var (exit, console) = await feed.RunAsync("dotnet",
            ["tool", "run", "dotnet-repl", "--", "--run", notebook, "--exit-after-run", "--output-path", output, "--output-format", "ipynb"]);
        log.WriteLine($"dotnet-repl: {clock.Elapsed.TotalSeconds:F0} s, exit {exit}\n{console}");
        Assert.Equal(0, exit);

        var saved = JsonNode.Parse(File.ReadAllText(output))!["cells"]!.AsArray();
        Assert.DoesNotContain(saved.SelectMany(cell => cell!["outputs"]!.AsArray()), o => o!["output_type"]?.GetValue<string>() == "error");
        var outputs = saved.Select(cell => string.Join("\n", cell!["outputs"]!.AsArray().SelectMany(o => Values(o!)))).ToList();
        Assert.Equal(cells.Length, outputs.Count);
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

        Assert.Equal(["heatmap"], Charts(outputs[7]).SelectMany(c => c).Select(t => t.Type).Distinct());
        var similarity = Charts(outputs[9]);
        Assert.Equal(2, similarity.Count); // raw and normalised
        Assert.All(similarity.SelectMany(c => c), t => Assert.Equal(("scatter", "lines+markers"), (t.Type, t.Mode)));
        var temperature = Assert.Single(Charts(outputs[10]));
        Assert.Equal(2, temperature.Count); // one bar series per temperature
        Assert.All(temperature, t => Assert.Equal("bar", t.Type));
        var pca = Assert.Single(Assert.Single(Charts(outputs[11])));
        Assert.Equal(("scatter", "markers+text"), (pca.Type, pca.Mode));
        var refusal = Charts(outputs[12]);
        Assert.Equal(3, refusal.Count); // refusal score, steering score, KL divergence
        Assert.All(refusal, chart =>
        {
            Assert.Contains(chart, t => (t.Type, t.Mode) == ("scatter", "lines+markers"));
            Assert.Contains(chart, t => (t.Type, t.Mode, t.Symbol) == ("scatter", "markers", "star"));
        });
    }

    sealed record Trace(string Type, string? Mode, string? Symbol);

    /// <summary>The traces of every Plotly chart in an output, from the data Plotly.NET wrote into each chart's script (<c>var data = [...];</c>).</summary>
    static IReadOnlyList<IReadOnlyList<Trace>> Charts(string html) => html.Split('\n').Select(line => line.Trim())
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

    static string Notebook(IEnumerable<string> cells) => new JsonObject
    {
        ["cells"] = new JsonArray([.. cells.Select(code => (JsonNode)new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
            ["outputs"] = new JsonArray(),
            ["source"] = code,
        })]),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
            ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
    }.ToJsonString();

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
        var html = tokens.Events.Where(e => e.Type == "DisplayedValueProduced")
            .SelectMany(e => e.Body["formattedValues"]!.AsArray())
            .Where(v => v!["mimeType"]!.GetValue<string>() == "text/html")
            .Select(v => v!["value"]!.GetValue<string>()).Single();
        TokenView.AssertChips(html, HfTokenizer.Load("tiny").Tokenize(Text));

        var failure = await host.SubmitAsync("#!model tokens \"hi\" --bogus 1");
        Assert.False(failure.Succeeded);
        Assert.Contains("Unknown option '--bogus'", failure.Transcript);
        log.WriteLine($"dotnet-interactive stdio: {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>
    /// <c>dotnet-interactive stdio</c>: one JSON command envelope per line in ({"commandType", "command", "token"}),
    /// JSON event envelopes out ({"eventType", "event", "command": {"token"}}). A submission is parsed when it arrives,
    /// so the next is sent only after the previous one finished (a directive added by a package is unknown before).
    /// </summary>
    sealed class StdioHost : IAsyncDisposable
    {
        readonly Process _process;
        readonly StringBuilder _errors = new();
        int _next;

        StdioHost(Process process) => _process = process;

        public static StdioHost Start(PackedFeed feed)
        {
            var process = new Process { StartInfo = feed.StartInfo("dotnet", ["tool", "run", "dotnet-interactive", "--", "stdio", "--default-kernel", "csharp"]) };
            process.StartInfo.RedirectStandardInput = true;
            var host = new StdioHost(process);
            process.ErrorDataReceived += (_, e) => { lock (host._errors) host._errors.AppendLine(e.Data); };
            process.Start();
            process.BeginErrorReadLine();
            return host;
        }

        public async Task<StdioResult> SubmitAsync(string code)
        {
            var token = $"nb{++_next}";
            var envelope = new JsonObject
            {
                ["commandType"] = "SubmitCode",
                ["command"] = new JsonObject { ["code"] = code, ["targetKernelName"] = "csharp" },
                ["token"] = token,
            };
            await _process.StandardInput.WriteLineAsync(envelope.ToJsonString());
            await _process.StandardInput.FlushAsync();
            var events = new List<StdioEvent>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                // The host prints a banner before its first event; only JSON objects are events.
                if (!line.StartsWith('{')) continue;
                var json = JsonNode.Parse(line)!;
                var type = json["eventType"]?.GetValue<string>();
                var eventToken = json["command"]?["token"]?.GetValue<string>();
                if (type is null || eventToken is null || !eventToken.StartsWith(token, StringComparison.Ordinal)) continue;
                events.Add(new StdioEvent(type, json["event"]!, line));
                if (eventToken == token && type is "CommandSucceeded" or "CommandFailed")
                    return new StdioResult(type == "CommandSucceeded", events);
            }
            lock (_errors) throw new InvalidOperationException($"dotnet-interactive stdio ended before {token} finished: {_errors}");
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            // The host does not end when its input closes.
            if (!_process.WaitForExit(TimeSpan.FromSeconds(2))) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    sealed record StdioEvent(string Type, JsonNode Body, string Line);

    sealed record StdioResult(bool Succeeded, IReadOnlyList<StdioEvent> Events)
    {
        public string Transcript => string.Join("\n", Events.Select(e => e.Line));
    }
}
