using System.Diagnostics;

namespace NotebookLens.Tests;

/// <summary>
/// Runs a probe in a new process started from this test assembly, for what depends on the whole process's history:
/// resident memory and the C heap's free space are the sum of every test that ran before in the test host.
/// </summary>
public static class FreshProcess
{
    static readonly Dictionary<string, Func<string>> Probes = new()
    {
        [Runtime.NativeHeapTests.Probe] = Runtime.NativeHeapTests.RunProbe,
        [Runtime.NativeHeapTests.ProbeAfterTraining] = Runtime.NativeHeapTests.RunProbeAfterTraining,
        [Runtime.NativeHeapTests.ProbeReuse] = Runtime.NativeHeapTests.RunReuseProbe,
        [Runtime.NativeHeapTests.ProbeDecode] = Runtime.NativeHeapTests.RunDecodeProbe,
    };

    /// <summary>Entry point when started by <see cref="Run"/>: runs one probe and prints what it returns.</summary>
    public static int Main(string[] args)
    {
        if (args.Length != 1 || !Probes.TryGetValue(args[0], out var probe))
        {
            Console.Error.WriteLine($"usage: NotebookLens.Tests <probe>, one of: {string.Join(", ", Probes.Keys)}");
            return 2;
        }
        Console.WriteLine(probe());
        return 0;
    }

    /// <summary>Starts this assembly with the probe's name (and these environment variables) and returns what the probe printed; throws if it failed.</summary>
    public static string Run(string probe, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(typeof(FreshProcess).Assembly.Location);
        start.ArgumentList.Add(probe);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"probe {probe} exited with {process.ExitCode}: {error.Result}{output}");
        return output.Trim();
    }
}
