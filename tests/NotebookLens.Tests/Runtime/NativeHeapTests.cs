using NotebookLens.Runtime;
using NotebookLens.Tests.Robustness;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Runtime;

/// <summary>
/// Measured in a fresh process: in the test host, free heap space left by earlier tests (made non-resident by their
/// malloc_trim) can serve the 20 MB block, which then stays resident whatever the mmap threshold.
/// </summary>
public sealed class NativeHeapTests
{
    public const string Probe = "native-heap";

    [Fact]
    public void A_freed_large_tensor_is_handed_back_to_the_system()
    {
        var lines = FreshProcess.Run(Probe).Split('\n');
        Assert.Contains("malloc mmap threshold 256 KB", lines[0]);
        long kept = long.Parse(lines[1]);
        Assert.True(kept < 4_000_000, $"{kept / 1e6:F1} MB of a freed 20 MB tensor stayed resident");
    }

    /// <summary>Prints the runtime's status and the resident bytes a freed 20 MB tensor left.</summary>
    public static string RunProbe()
    {
        TorchRuntime.EnsureLoaded();
        // With glibc's default, freeing the 24 MB block raises its mmap threshold to 24 MB, so the 20 MB one comes
        // from the heap and stays resident after it is freed.
        Fill(24);
        long before = MemorySnapshot.ResidentBytes();
        Fill(20);
        return $"{TorchRuntime.Status}\n{MemorySnapshot.ResidentBytes() - before}";
    }

    /// <summary>A float32 tensor of that many MB, every page written, then freed.</summary>
    static void Fill(int megabytes)
    {
        using var t = ones(megabytes * 1024 * 1024 / 4);
    }
}
