using System.Diagnostics;

namespace NotebookLens.Tests;

public class FixturesTests
{
    [Fact]
    public void A_new_run_deletes_the_folders_of_finished_runs_and_keeps_those_of_running_ones()
    {
        var parent = Fixtures.TempDir();
        var finished = Path.Combine(parent, $"run-{FinishedProcessId()}-{Guid.NewGuid():N}");
        var running = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var other = Path.Combine(parent, "not-a-run");
        foreach (var dir in new[] { finished, running, other })
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "checkpoint.bin"), "weights");
        }

        Fixtures.DeleteLeftovers(parent);

        Assert.False(Directory.Exists(finished));
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(other));
    }

    static int FinishedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
