using System.Diagnostics;

namespace NotebookLens.Notebooks.Tests;

/// <summary>Every test class that runs notebooks is in this collection, so they share one <see cref="NotebookRuns"/>.</summary>
[CollectionDefinition(Name)]
public sealed class NotebookCollection : ICollectionFixture<NotebookRuns>
{
    public const string Name = "notebooks";
}

/// <summary>
/// Runs notebooks in both real runners, each notebooks/*.ipynb at most once per runner per test run, with one packed
/// feed and one fresh package cache (<see cref="PackedFeed"/>). The first request for a notebook starts it in both
/// runners, side by side (one process per runner at a time: two cores); the executed notebooks stay in
/// artifacts/notebook-tests/RUNNER/NAME.ipynb (names must differ), the time of each run in
/// artifacts/notebook-tests/timings.txt.
/// </summary>
public sealed class NotebookRuns : IAsyncLifetime
{
    const string Jupyter = "/usr/bin/jupyter";

    /// <summary>notebooks/ at the repository root.</summary>
    public static string Folder => Path.Combine(Repo.Root, "notebooks");

    /// <summary>The notebooks there, by file name without .ipynb, in order.</summary>
    public static IReadOnlyList<string> Names => Directory.Exists(Folder)
        ? [.. Directory.GetFiles(Folder, "*.ipynb").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal)]
        : [];

    public static string Output => Path.Combine(Repo.Artifacts, "notebook-tests");

    readonly Dictionary<Runner, SemaphoreSlim> _turns = Enum.GetValues<Runner>().ToDictionary(r => r, _ => new SemaphoreSlim(1));
    readonly Dictionary<(string Path, Runner Runner), Task<ExecutedNotebook>> _runs = [];
    readonly List<ExecutedNotebook> _done = [];

    public PackedFeed Feed { get; } = new();

    public async Task InitializeAsync()
    {
        await Feed.InitializeAsync();
        var (exit, kernels) = await Feed.RunAsync(Jupyter, ["kernelspec", "list"]);
        Assert.True(exit == 0 && kernels.Contains(".net-csharp"),
            $"Jupyter's .NET kernel is not registered (run `bash build/install-jupyter.sh`; build/test.sh does):\n{kernels}");
    }

    /// <summary>notebooks/NAME.ipynb as <paramref name="runner"/> left it.</summary>
    public Task<ExecutedNotebook> Executed(string name, Runner runner) => ExecutedFile(Path.Combine(Folder, name + ".ipynb"), runner);

    /// <summary>
    /// Any notebook as <paramref name="runner"/> left it: run in its own folder on the first request (in both runners
    /// at once), then remembered. Its folder must sit like notebooks/ does: the feed at ../artifacts/feed and the tool
    /// manifest (.config/dotnet-tools.json) in a folder above.
    /// </summary>
    public Task<ExecutedNotebook> ExecutedFile(string notebook, Runner runner)
    {
        notebook = Path.GetFullPath(notebook);
        if (!File.Exists(notebook)) throw new FileNotFoundException($"no notebook {notebook}", notebook);
        lock (_runs)
        {
            foreach (var each in Enum.GetValues<Runner>())
                if (!_runs.ContainsKey((notebook, each))) _runs[(notebook, each)] = RunAsync(notebook, each);
            return _runs[(notebook, runner)];
        }
    }

    async Task<ExecutedNotebook> RunAsync(string notebook, Runner runner)
    {
        await _turns[runner].WaitAsync();
        try
        {
            var folder = Path.GetDirectoryName(notebook)!;
            var name = Path.GetFileNameWithoutExtension(notebook);
            var outputFolder = Path.Combine(Output, FolderName(runner));
            Directory.CreateDirectory(outputFolder);
            var executed = Path.Combine(outputFolder, name + ".ipynb");
            File.Delete(executed);
            var clock = Stopwatch.StartNew();
            var (exit, log) = runner switch
            {
                Runner.DotnetRepl => await Feed.RunAsync("dotnet",
                    ["tool", "run", "dotnet-repl", "--", "--run", notebook, "--exit-after-run", "--output-path", executed, "--output-format", "ipynb"], folder),
                // --allow-errors: run on and write the notebook, whose error outputs then say which cells failed.
                // The kernel starts in the notebook's folder (nbconvert's default).
                Runner.Jupyter => await Feed.RunAsync(Jupyter,
                    ["nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.timeout=600",
                     "--output-dir", outputFolder, "--output", name, notebook], folder),
                _ => throw new ArgumentOutOfRangeException(nameof(runner)),
            };
            var result = ExecutedNotebook.Read(notebook, executed, runner, exit, log, clock.Elapsed);
            lock (_done) _done.Add(result);
            return result;
        }
        finally
        {
            _turns[runner].Release();
        }
    }

    public static string FolderName(Runner runner) => runner == Runner.DotnetRepl ? "dotnet-repl" : "jupyter";

    public async Task DisposeAsync()
    {
        Task[] running;
        lock (_runs) running = [.. _runs.Values];
        try { await Task.WhenAll(running); } catch (Exception) { }   // their tests report their failures
        lock (_done)
        {
            if (_done.Count > 0)
            {
                Directory.CreateDirectory(Output);
                File.WriteAllLines(Path.Combine(Output, "timings.txt"),
                    _done.Select(r => $"{r.Elapsed.TotalSeconds,6:F1} s  {FolderName(r.Runner),-11}  {r.Name}"));
            }
        }
        await Feed.DisposeAsync();
    }
}
