using System.Diagnostics;
using System.Text.RegularExpressions;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using Xunit.Abstractions;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// A second machine without a second machine: the remote is another <c>dotnet-interactive stdio</c> process with a
/// HOME and NuGet package folder of its own (nothing it installs is visible here, nothing installed here is visible
/// there), started by the command given to <c>#!model connect</c> as ssh would start it. The local kernel is VS Code's
/// host (<c>dotnet-interactive stdio</c>) with NotebookLens from the packed feed; the remote gets the packages copied
/// over by the connection itself.
/// </summary>
public sealed partial class RemoteKernelTests(RemoteKernelTests.Session session, ITestOutputHelper log) : IClassFixture<RemoteKernelTests.Session>
{
    const string Kernel = "gpu";

    /// <summary>Packs the feed, starts the local host with NotebookLens and connects the remote once for all facts.</summary>
    public sealed class Session : IAsyncLifetime
    {
        public PackedFeed Feed { get; } = new();

        public StdioHost Host { get; private set; } = null!;

        /// <summary>
        /// The remote machine's home: its NuGet packages, restore cache and tiny's extracted files live here, kept
        /// between runs as a machine keeps them. Outside the repository, whose Directory.Packages.props would apply
        /// to the projects the remote's restore makes under it.
        /// </summary>
        public string RemoteHome { get; } = Path.Combine(Path.GetTempPath(), "notebooklens-remote-machine");

        public string ConnectLine { get; private set; } = "";

        /// <summary>What the first #!model connect showed.</summary>
        public StdioResult Connected { get; private set; } = null!;

        /// <summary>The remote's process id now (a reconnect changes it).</summary>
        public int RemoteProcessId { get; set; }

        public TimeSpan ConnectTime { get; private set; }

        public async Task InitializeAsync()
        {
            await Feed.InitializeAsync();
            Host = StdioHost.Start(Feed);
            var reference = await Host.SubmitAsync(Feed.Reference);
            Assert.True(reference.Succeeded, reference.Transcript);
            Directory.CreateDirectory(RemoteHome);
            var tool = DotnetInteractive();
            // `env` starts the remote in its own world; a real remote is `["ssh","gpu-box","dotnet-interactive","stdio"]`.
            string[] command = ["env", $"HOME={RemoteHome}", $"NUGET_PACKAGES={RemoteHome}/.nuget/packages", "dotnet", tool, "stdio", "--default-kernel", "csharp"];
            ConnectLine = $"#!model connect --kernel-name {Kernel} --command {System.Text.Json.JsonSerializer.Serialize(command)}";
            var clock = Stopwatch.StartNew();
            Connected = await Host.SubmitAsync(ConnectLine);
            ConnectTime = clock.Elapsed;
            // Every fact needs the remote: without it they fail here at once, with the reason.
            Assert.True(Connected.Succeeded, Connected.Transcript);
            RemoteProcessId = WhereProcessId(Connected);
        }

        /// <summary>
        /// The pinned dotnet-interactive's assembly, run with <c>dotnet</c> directly: the tool resolver remembers where
        /// <c>dotnet tool restore</c> first put it (this run's package folder or the machine's).
        /// </summary>
        string DotnetInteractive()
        {
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, ".config", "dotnet-tools.json")))!;
            var version = manifest["tools"]!["microsoft.dotnet-interactive"]!["version"]!.GetValue<string>();
            string[] folders = [Feed.Packages, Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")];
            return folders.Select(f => Path.Combine(f, "microsoft.dotnet-interactive", version, "tools", "net10.0", "any", "Microsoft.DotNet.Interactive.App.dll"))
                .First(File.Exists);
        }

        public async Task DisposeAsync()
        {
            if (Host is not null) await Host.DisposeAsync();
            await Feed.DisposeAsync();
        }
    }

    StdioHost Host => session.Host;

    [GeneratedRegex(@"process (\d+), device (\S+)")]
    private static partial Regex WhereLine();

    /// <summary>The remote's process id, from the line #!model connect showed.</summary>
    static int WhereProcessId(StdioResult connected) => int.Parse(WhereLine().Match(connected.Text).Groups[1].Value);

    [Fact]
    public async Task Connecting_installs_notebooklens_on_the_remote_and_says_where_its_cells_run()
    {
        log.WriteLine($"connect: {session.ConnectTime.TotalSeconds:F1} s\n{session.Connected.Text}");
        Assert.True(session.Connected.Succeeded, session.Connected.Transcript);
        var where = WhereLine().Match(session.Connected.Text);
        Assert.True(where.Success, session.Connected.Text);
        Assert.Contains($"Connected: #!{Kernel} cells run on the remote kernel. {System.Net.Dns.GetHostName()}, process", session.Connected.Text);
        Assert.Equal("cpu", where.Groups[2].Value);

        // The process that answers #!gpu cells is the one the line names, a process the local host started, not the host.
        var remotePid = session.RemoteProcessId;
        var pid = await Host.SubmitAsync("System.Environment.ProcessId", Kernel);
        Assert.Equal(remotePid.ToString(), pid.Returned);
        Assert.NotEqual(Host.ProcessId, remotePid);
        Assert.Contains(Host.ProcessId, Ancestors(remotePid));

        // NotebookLens there came from the remote's own package folder; the local host never saw that folder.
        var location = await Host.SubmitAsync("#!gpu\ntypeof(NotebookLens.LensModel).Assembly.Location");
        Assert.StartsWith(Path.Combine(session.RemoteHome, ".nuget", "packages", "notebooklens"), location.Returned);
        var local = await Host.SubmitAsync("typeof(NotebookLens.LensModel).Assembly.Location");
        Assert.StartsWith(session.Feed.Packages, local.Returned);

        // Running the connect cell again (Run All) keeps the remote and what it holds.
        var again = await Host.SubmitAsync(session.ConnectLine);
        Assert.True(again.Succeeded, again.Transcript);
        Assert.Contains("Already connected", again.Text);
        Assert.Equal(session.RemoteProcessId, WhereProcessId(again));

        // Round trips, for the README: a cell here and the same cell there.
        foreach (var (label, kernel) in new[] { ("local", "csharp"), ("remote", Kernel) })
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 10; i++) Assert.Equal("2", (await Host.SubmitAsync("1 + 1", kernel)).Returned);
            log.WriteLine($"1 + 1 {label}: {clock.Elapsed.TotalMilliseconds / 10:F0} ms a cell");
        }
    }

    /// <summary>The process ids from <paramref name="pid"/>'s parent up to init (Linux /proc).</summary>
    static List<int> Ancestors(int pid)
    {
        var ancestors = new List<int>();
        while (pid > 1)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            ancestors.Add(pid);
        }
        return ancestors;
    }

    [Fact]
    public async Task Models_loaded_in_remote_cells_live_on_the_remote_and_its_csharp_sees_them()
    {
        // float32: a model of its own (the registry loads each source and dtype once).
        var load = await Host.SubmitAsync("#!gpu\n#!model load tiny --name far --dtype float32");
        Assert.True(load.Succeeded, load.Transcript);
        Assert.Contains("Loaded tiny as far", load.Text);
        Assert.Equal(ModelConfig.Load(EmbeddedTiny()).NumLayers.ToString(), (await Host.SubmitAsync("far.Config.NumLayers", Kernel)).Returned);
        Assert.Contains("far", (await Host.SubmitAsync("#!model list", Kernel)).Text);
        Assert.DoesNotContain("far", (await Host.SubmitAsync("#!model list")).Text);
        Assert.False((await Host.SubmitAsync("far.Config.NumLayers")).Succeeded);

        // --as puts the typed result into the remote's C#.
        Assert.True((await Host.SubmitAsync("#!model tokens \"Hello world\" --as words --model far", Kernel)).Succeeded);
        Assert.Equal(HfTokenizer.Load("tiny").Tokenize("Hello world").Count.ToString(), (await Host.SubmitAsync("words.Count", Kernel)).Returned);
    }

    static string EmbeddedTiny() => NotebookLens.Loading.EmbeddedModel.Tiny.Folder();

    /// <summary>
    /// Each lecture step run here and on the remote: the same view (text and HTML, chart ids aside), however large
    /// (the first chart output carries plotly.js, 3.6 MB, so charts draw offline).
    /// </summary>
    [Fact]
    public async Task Views_from_the_remote_are_the_views_made_locally()
    {
        // --model tiny: another fact makes another model current on the remote.
        string[] steps =
        [
            "#!model info --model tiny",
            "#!model lens 今天天氣真 --k 3 --model tiny",
            "#!model attention \"The ball is green. The ball has the color\" --grid --model tiny",
            "#!model generate \"The weather is\" --max-new-tokens 8 --model tiny",
            "#!model refusal --layer 2 --n-train 2 --n-val 2 --n-test 1 --max-new-tokens 2 --kl-threshold none --steering-threshold none --model tiny",
        ];
        var largest = 0;
        foreach (var step in steps)
        {
            var clock = Stopwatch.StartNew();
            var local = await Host.SubmitAsync(step);
            var localTime = clock.Elapsed;
            clock.Restart();
            var remote = await Host.SubmitAsync(step, Kernel);
            log.WriteLine($"{step}: local {localTime.TotalSeconds:F1} s, remote {clock.Elapsed.TotalSeconds:F1} s, {remote.Html.Length:N0} chars of HTML");
            Assert.True(local.Succeeded, local.Transcript);
            Assert.True(remote.Succeeded, remote.Transcript);
            largest = Math.Max(largest, remote.Formatted("text/html").Max(h => h.Length));
            var (localView, remoteView) = (FinalView(local), FinalView(remote));
            // The model's engine line says how its own process runs it: the remote's names the remote's libtorch.
            if (step.StartsWith("#!model info", StringComparison.Ordinal))
                Assert.Contains($"engine: {Path.Combine(session.RemoteHome, ".nuget", "packages")}", remoteView.Text);
            Assert.Equal(WithoutEngine(localView.Text), WithoutEngine(remoteView.Text));
            Assert.Equal(WithoutEngine(WithoutIds(ViewPart(localView.Html))), WithoutEngine(WithoutIds(ViewPart(remoteView.Html))));
        }
        // The remote's first chart output carried plotly.js whole (3.6 MB), so its charts draw here offline.
        Assert.True(largest > 3_000_000, $"the largest remote output has {largest:N0} chars");
    }

    /// <summary>The view a cell ended with (live lines of progress and streamed tokens come before it).</summary>
    static (string Html, string Text) FinalView(StdioResult cell)
    {
        var shown = cell.Events.Last(e => e.Type == "DisplayedValueProduced").Body["formattedValues"]!.AsArray();
        string Value(string mime) => shown.Single(v => v!["mimeType"]!.GetValue<string>() == mime)!["value"]!.GetValue<string>();
        return (Value("text/html"), Value("text/plain"));
    }

    /// <summary>The view without the scripts that come before it (plotly.js goes with a session's first chart only, which may be here or there).</summary>
    static string ViewPart(string html) => html[html.IndexOf("<div class=\"nl\">", StringComparison.Ordinal)..];

    [GeneratedRegex("[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex RandomId();

    static string WithoutIds(string html) => RandomId().Replace(html, "ID");

    [GeneratedRegex("engine: [^<\n]*")]
    private static partial Regex EngineLine();

    /// <summary>A view with its engine line (<c>#!model info</c>'s: the process's own libtorch path and set-up) cut to its label.</summary>
    static string WithoutEngine(string view) => EngineLine().Replace(view, "engine:");

    [Fact]
    public async Task A_failing_remote_cell_fails_with_the_remotes_message_and_both_kernels_keep_working()
    {
        const string step = "#!model attention \"Hello\" --layer 99 --head 0";
        var local = await Host.SubmitAsync(step);
        var remote = await Host.SubmitAsync(step, Kernel);
        Assert.False(remote.Succeeded);
        Assert.Equal(local.Failure, remote.Failure);
        Assert.Contains("layer", remote.Failure);

        var thrown = await Host.SubmitAsync("throw new System.InvalidOperationException(\"boom on the remote\");", Kernel);
        Assert.False(thrown.Succeeded);
        Assert.Contains("boom on the remote", thrown.Failure);

        Assert.Equal("2", (await Host.SubmitAsync("1 + 1", Kernel)).Returned);
        Assert.Equal("2", (await Host.SubmitAsync("1 + 1")).Returned);

        // A command that never starts a kernel (ssh to a host that does not resolve): what it said, and nothing added.
        var nowhere = await Host.SubmitAsync("#!model connect --kernel-name nowhere --command [\"sh\",\"-c\",\"echo ssh: Could not resolve hostname nowhere >&2; exit 255\"]");
        Assert.False(nowhere.Succeeded);
        Assert.Contains("ended with exit code 255", nowhere.Failure);
        Assert.Contains("ssh: Could not resolve hostname nowhere", nowhere.Failure);
        Assert.False((await Host.SubmitAsync("#!nowhere\n1 + 1")).Succeeded);
        Assert.Equal("2", (await Host.SubmitAsync("1 + 1")).Returned);

        // A feed the remote cannot read: the restore's own error, and the kernel without NotebookLens is ended.
        var spare = session.ConnectLine.Replace($"--kernel-name {Kernel}", "--kernel-name spare") + " --feed /nonexistent/feed";
        var unreadable = await Host.SubmitAsync(spare);
        Assert.False(unreadable.Succeeded);
        Assert.Contains("Installing NotebookLens on the remote kernel from /nonexistent/feed failed", unreadable.Failure);
        var ended = await Host.SubmitAsync("1 + 1", "spare");
        Assert.Contains("is not running", ended.Failure);
    }

    /// <summary>A refusal experiment on tiny that takes minutes (7 on a loaded 2-core machine): a cell after it could not run soon if it went on.</summary>
    const string LongWork = "#!model refusal --n-train 48 --n-val 8 --n-test 8 --max-new-tokens 128 --prune-layers 0";

    /// <summary>Runs <see cref="LongWork"/> on the remote; done when its progress line shows.</summary>
    async Task<(Task<StdioResult> Running, StdioResult? Early)> StartLongWorkAsync()
    {
        var progress = new TaskCompletionSource();
        var running = Host.SubmitAsync(LongWork, Kernel, e => { if (e.Type is "DisplayedValueProduced" or "DisplayedValueUpdated") progress.TrySetResult(); });
        await Task.WhenAny(progress.Task, running).WaitAsync(TimeSpan.FromMinutes(2));
        return (running, running.IsCompleted ? await running : null);
    }

    /// <summary>The remote runs one cell at a time: a cell after a stopped one runs at once only if the stopped work really stopped there.</summary>
    static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stopping_a_remote_cell_stops_the_work_on_the_remote()
    {
        var (running, early) = await StartLongWorkAsync();
        Assert.True(early is null, early?.Transcript);
        await Host.CancelAsync();
        var stopped = await running;
        Assert.Equal("Cancelled.", stopped.Failure);
        var clock = Stopwatch.StartNew();
        var next = await Host.SubmitAsync("#!model info", Kernel);
        log.WriteLine($"the #!model cell after the stopped one: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(next.Succeeded, next.Transcript);
        Assert.True(clock.Elapsed < Soon, $"the next remote cell waited {clock.Elapsed.TotalSeconds:F0} s");

        // A C# cell on the remote, stopped: its cancellation token fires there.
        var waiting = Host.SubmitAsync("await System.Threading.Tasks.Task.Delay(600_000, Microsoft.DotNet.Interactive.KernelInvocationContext.Current.CancellationToken);", Kernel);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await Host.CancelAsync();
        Assert.False((await waiting).Succeeded);
        clock.Restart();
        Assert.Equal("2", (await Host.SubmitAsync("1 + 1", Kernel)).Returned);
        Assert.True(clock.Elapsed < Soon, $"the next remote cell waited {clock.Elapsed.TotalSeconds:F0} s");
    }

    [Fact]
    public async Task A_remote_that_dies_mid_cell_fails_that_cell_the_local_kernel_survives_and_reconnecting_works()
    {
        var (running, early) = await StartLongWorkAsync();
        Assert.True(early is null, early?.Transcript);
        Process.GetProcessById(session.RemoteProcessId).Kill();
        var died = await running.WaitAsync(Soon);
        Assert.False(died.Succeeded);
        Assert.Contains("The remote kernel", died.Failure);
        Assert.Contains("ended with exit code", died.Failure);
        Assert.Contains("reconnect with the same #!model connect line", died.Failure);

        Assert.Equal("2", (await Host.SubmitAsync("1 + 1")).Returned);
        var gone = await Host.SubmitAsync("1 + 1", Kernel);
        Assert.False(gone.Succeeded);
        Assert.Contains("is not running: it ended with exit code", gone.Failure);

        var reconnected = await Host.SubmitAsync(session.ConnectLine);
        Assert.True(reconnected.Succeeded, reconnected.Transcript);
        Assert.Contains("Reconnected", reconnected.Text);
        var pid = WhereProcessId(reconnected);
        Assert.NotEqual(session.RemoteProcessId, pid);
        session.RemoteProcessId = pid;
        Assert.Equal(pid.ToString(), (await Host.SubmitAsync("System.Environment.ProcessId", Kernel)).Returned);
        Assert.True((await Host.SubmitAsync("#!model info", Kernel)).Succeeded);
    }

    /// <summary>
    /// The same in dotnet-repl, whose kernel has no #!connect until a cell registers it (#!model connect does not need
    /// it): a cell whose kernel is the remote's, and a #!gpu line.
    /// </summary>
    [Fact]
    public async Task The_connect_line_works_in_dotnet_repl()
    {
        ReplNotebook.Cell[] cells =
        [
            new(session.Feed.Reference),
            // From a feed the remote reads (the same disk here) instead of a copy of this kernel's packages.
            new($"{session.ConnectLine} --feed {session.Feed.Feed}"),
            new("#!model tokens \"Hello world\"", Kernel),
            new("#!gpu\nSystem.Environment.ProcessId"),
            new("System.Environment.ProcessId"),
        ];
        var (outputs, errors) = await ReplNotebook.RunAsync(session.Feed, cells, log, "remote");
        Assert.DoesNotContain(true, errors);
        Assert.Contains("Connected: #!gpu cells run on the remote kernel.", outputs[1]);
        TokenView.AssertChips(outputs[2], HfTokenizer.Load("tiny").Tokenize("Hello world"));
        var remotePid = WhereLine().Match(outputs[1]).Groups[1].Value;
        Assert.Contains($"<pre>{remotePid}</pre>", outputs[3]);
        Assert.DoesNotContain($"<pre>{remotePid}</pre>", outputs[4]);

        // dotnet-repl has ended: the remote, whose input closed with it, ends too instead of running on.
        var clock = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{remotePid}") && clock.Elapsed < Soon) await Task.Delay(200);
        Assert.False(Directory.Exists($"/proc/{remotePid}"), $"the remote process {remotePid} still runs {Soon.TotalSeconds} s after its notebook ended");
    }
}
