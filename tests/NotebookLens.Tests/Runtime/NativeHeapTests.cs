using NotebookLens.Runtime;
using NotebookLens.Tests.Robustness;
using NotebookLens.Training;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Runtime;

/// <summary>
/// Measured in a fresh process: in the test host, free heap space left by earlier tests (made non-resident by their
/// malloc_trim) can serve the blocks below, which then stay resident whatever the mmap threshold.
/// </summary>
public sealed class NativeHeapTests
{
    public const string Probe = "native-heap", ProbeAfterTraining = "native-heap-after-training";

    [Theory]
    [InlineData(Probe)]
    [InlineData(ProbeAfterTraining)]
    public void Freed_large_tensors_are_handed_back_to_the_system(string probe)
    {
        var lines = FreshProcess.Run(probe).Split('\n');
        Assert.Contains("malloc mmap threshold 256 KB", lines[0]);
        long kept = long.Parse(lines[1]);
        Assert.True(kept < 4_000_000, $"{kept / 1e6:F1} MB of freed 24 and 20 MB tensors stayed resident");
    }

    [Fact]
    public void Training_keeps_a_threshold_the_user_set()
    {
        // 256 KB set by the user: the training scope must neither replace it with its 32 MB nor report it as its own.
        var lines = FreshProcess.Run(ProbeAfterTraining, new Dictionary<string, string> { ["MALLOC_MMAP_THRESHOLD_"] = "262144" }).Split('\n');
        Assert.Contains("malloc mmap threshold 262144 (MALLOC_MMAP_THRESHOLD_)", lines[0]);
        long kept = long.Parse(lines[1]);
        Assert.True(kept < 4_000_000, $"{kept / 1e6:F1} MB of freed 24 and 20 MB tensors stayed resident");
    }

    /// <summary>Prints the runtime's status and the resident bytes that freed 24 and 20 MB tensors left.</summary>
    public static string RunProbe()
    {
        TorchRuntime.EnsureLoaded();
        Fill(1); // libtorch's first use allocates for itself (its threads, its tables); not counted
        // With glibc's default, freeing the 24 MB block raises its mmap threshold to 24 MB, so the 20 MB one comes from
        // the heap and stays resident after it is freed; with blocks kept in the heap (as during training), both stay.
        long before = MemorySnapshot.ResidentBytes();
        Fill(24);
        Fill(20);
        return $"{TorchRuntime.Status}\n{MemorySnapshot.ResidentBytes() - before}";
    }

    /// <summary>The same after a short training run, which keeps large blocks in the heap while it runs.</summary>
    public static string RunProbeAfterTraining()
    {
        TinyModelTrainer.Run(Training.TrainerTests.Small with { Steps = 2, WarmupSteps = 1 }, Fixtures.TempDir());
        return RunProbe();
    }

    /// <summary>A float32 tensor of that many MB, every page written, then freed.</summary>
    static void Fill(int megabytes)
    {
        using var t = ones(megabytes * 1024 * 1024 / 4);
    }
}
