using System.Diagnostics;

namespace NotebookLens.Testing;

/// <summary>
/// Packs the feed once for the tests that run notebooks in the real hosts and gives them a package cache of their own (a fresh NUGET_PACKAGES under
/// a temporary folder, deleted afterwards), so what they restore comes from the feed and the NuGet source, never
/// from a cache that already holds an older build of our packages. The .NET CLI's own folder (DOTNET_CLI_HOME) is
/// there too: `dotnet tool restore` records where each local tool lives in its tool resolver cache, and an entry in the
/// user's ~/.dotnet pointing into the deleted folder broke `dotnet tool run` (build/run.sh) after a test run.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public const string Version = "0.1.0-dev";

    public string WorkFolder { get; } = Directory.CreateTempSubdirectory("notebooklens-host-").FullName;

    /// <summary>The NuGet package folder of the processes this fixture starts (and of the tools it restored).</summary>
    public string Packages => Path.Combine(WorkFolder, "nuget-packages");

    /// <summary>The .NET CLI's folder (tool resolver cache, first-run marker) of the processes this fixture starts.</summary>
    public string CliHome => Path.Combine(WorkFolder, "dotnet-cli-home");

    /// <summary>
    /// This fixture's copy of the packed feed (artifacts/feed). .NET Interactive's restore keeps what a set of
    /// <c>#i</c>/<c>#r</c> lines resolved to in ~/.packagemanagement/nuget/Cache, keyed by those lines and not by the
    /// package folder: with one feed path for all, a host of one fixture reused the paths another fixture's host had
    /// restored into its own package folder, and failed to load assemblies ("Could not load file or assembly
    /// 'Microsoft.ML.Tokenizers'") once that fixture had deleted it. A feed path of its own gives each fixture its
    /// own entry, and a later pack cannot replace a package while this fixture's hosts restore it.
    /// </summary>
    public string Feed => Path.Combine(WorkFolder, "feed");

    /// <summary>The first cell of a notebook that uses NotebookLens.</summary>
    public string Reference => $"#i \"nuget: {Feed}\"\n#r \"nuget: NotebookLens.Interactive, {Version}\"";

    public async Task InitializeAsync()
    {
        var (toolExit, toolLog) = await RunAsync("dotnet", ["tool", "restore"]);
        Assert.True(toolExit == 0, toolLog);
        // Packing builds with the machine's package cache: only what the hosts restore must come from a fresh one.
        var pack = StartInfo("bash", [Path.Combine(Repo.Root, "build", "pack.sh")]);
        pack.Environment.Remove("NUGET_PACKAGES");
        pack.Environment.Remove("DOTNET_CLI_HOME");
        var (packExit, packLog) = await RunAsync(pack);
        Assert.True(packExit == 0, packLog);
        Directory.CreateDirectory(Feed);
        foreach (var package in Directory.GetFiles(Path.Combine(Repo.Artifacts, "feed"), "NotebookLens.*.nupkg"))
            File.Copy(package, Path.Combine(Feed, Path.GetFileName(package)));
        Assert.True(File.Exists(Path.Combine(Feed, $"NotebookLens.Interactive.{Version}.nupkg")), packLog);
    }

    /// <summary>A process with this run's package cache, started in the repository or in <paramref name="workingDirectory"/>.</summary>
    public ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory ?? Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["NUGET_PACKAGES"] = Packages;
        info.Environment["DOTNET_CLI_HOME"] = CliHome;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        return info;
    }

    /// <summary>Runs a process to its end; its exit code and everything it printed.</summary>
    public Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> arguments, string? workingDirectory = null) =>
        RunAsync(StartInfo(file, arguments, workingDirectory));

    async Task<(int Exit, string Output)> RunAsync(ProcessStartInfo info)
    {
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} ran for more than 10 minutes");
        }
        return (process.ExitCode, await output + await errors);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(WorkFolder, recursive: true);
        return Task.CompletedTask;
    }
}
