using System.Runtime.InteropServices;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Runtime;

/// <summary>libtorch's oneDNN caches capped (<see cref="OneDnnCaches"/>): read from the native environment, and held by the C heap's growth.</summary>
[Collection(nameof(Robustness.AloneCollection))]
public sealed partial class OneDnnCachesTests
{
    public OneDnnCachesTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Both_caches_are_capped_unless_the_environment_chose_a_size()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var name in OneDnnCaches.Variables)
        {
            var chosen = Environment.GetEnvironmentVariable(name);
            // libtorch reads the native environment, not .NET's copy of it.
            Assert.Equal(chosen ?? "64", NativeEnvironment.Get(name));
            Assert.Contains(chosen is null ? $"{name}=64" : $"{name} {chosen} (the environment's)", TorchRuntime.Status);
        }
    }

    [Fact]
    public void Products_of_three_hundred_shapes_leave_at_most_the_capped_entries()
    {
        // On CPUs where libtorch's bf16 products do not go through oneDNN nothing is cached and the heap does not grow.
        if (!OperatingSystem.IsLinux() || OneDnnCaches.Variables.Any(n => Environment.GetEnvironmentVariable(n) is not null)) return;
        using var weight = randn([256, 256]).to(ScalarType.BFloat16);
        long before = HeapInUse();
        for (int rows = 1100; rows < 1400; rows++) // row counts no other test multiplies by 256 x 256
        {
            using var scope = NewDisposeScope();
            nn.functional.linear(randn([rows, 256]).to(ScalarType.BFloat16), weight);
        }
        // Each new shape leaves ~270 KB in the two caches: 81 MB for 300 shapes uncapped, ~17 MB capped at 64 each
        // (AMD EPYC Zen 5 VM).
        double grown = (HeapInUse() - before) / 1048576.0;
        Assert.True(grown < 40, $"the C heap grew by {grown:F1} MB over 300 product shapes");
    }

    /// <summary>Bytes malloc has handed out and not had back, mapped blocks included.</summary>
    static long HeapInUse()
    {
        var info = MallInfo();
        return (long)(info.InUse + info.Mapped);
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, FreeChunks, FastChunks, MappedChunks, Mapped, MaxTotal, FastFree, InUse, Free, TopReleasable;
    }
}
