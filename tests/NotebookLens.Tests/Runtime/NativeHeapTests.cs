using NotebookLens.Runtime;
using NotebookLens.Tests.Robustness;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Runtime;

/// <summary>Resident memory is the whole process's: measured alone, after every other class.</summary>
[Collection(nameof(AloneCollection))]
public sealed class NativeHeapTests
{
    [Fact]
    public void A_freed_large_tensor_is_handed_back_to_the_system()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Contains("malloc mmap threshold 256 KB", TorchRuntime.Status);
        // With glibc's default, freeing the 24 MB block raises its mmap threshold to 24 MB, so the 20 MB one comes
        // from the heap and stays resident after it is freed.
        Fill(24);
        long before = Resident();
        Fill(20);
        long kept = Resident() - before;
        Assert.True(kept < 4_000_000, $"{kept / 1e6:F1} MB of a freed 20 MB tensor stayed resident");
    }

    /// <summary>A float32 tensor of that many MB, every page written, then freed.</summary>
    static void Fill(int megabytes)
    {
        using var t = ones(megabytes * 1024 * 1024 / 4);
    }

    static long Resident() => long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
}
