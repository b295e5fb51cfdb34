using NotebookLens.Generation;
using NotebookLens.Models;
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
    public const string Probe = "native-heap", ProbeAfterTraining = "native-heap-after-training", ProbeReuse = "native-heap-reuse", ProbeDecode = "native-heap-decode";

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

    [Fact]
    public void Blocks_are_reused_until_the_last_scope_ends_then_handed_back()
    {
        var f = FreshProcess.Run(ProbeReuse).Split('\n').Select(long.Parse).ToArray();
        // Independent of malloc's own counters: the kernel's page-fault count and resident size.
        const long pages = 20 * 1024 * 1024 / 4096;
        Assert.True(f[0] > pages / 2, $"outside a scope, a 20 MB tensor made after a 24 MB one was freed faulted {f[0]} pages: expected a fresh mapping");
        Assert.True(f[1] < pages / 20, $"in a scope, a 20 MB tensor made after a 24 MB one was freed faulted {f[1]} pages: the freed block was not reused");
        Assert.True(f[2] >= 16_000_000, $"after the inner of two scopes ended, {f[2] / 1e6:F1} MB of the freed blocks stayed resident: they were handed back too early");
        Assert.True(f[3] < 4_000_000, $"after the last scope ended, {f[3] / 1e6:F1} MB of the freed blocks stayed resident");
    }

    [Fact]
    public void Decode_steps_reuse_their_blocks_without_growing_the_heap()
    {
        var probe = FreshProcess.Run(ProbeDecode).Split('\n');
        // The prefill passes hand their blocks back as any pass does; the decode steps after it share one scope, closed
        // with the generation.
        Assert.Equal("prefill False, decode True, after False", probe[0]);
        // Reused, not replaced: a block that no longer fits its hole (posix_memalign's slack) takes new pages at every
        // step, 1 MB a step with these logits.
        long grown = long.Parse(probe[1]);
        Assert.True(grown < 8 << 20, $"30 decode steps grew the resident memory by {grown / 1e6:F1} MB");
    }

    /// <summary>
    /// Whether a reuse scope was open when the prefill's token came, at a decode step's and after the generation; then
    /// the resident bytes gained from the tenth decode step to the 40th (four sequences of the 128k-token llama3-tiny
    /// fixture: bf16 logits of 1 MB a step). Over the first steps the heap still settles.
    /// </summary>
    public static string RunDecodeProbe()
    {
        TorchRuntime.EnsureLoaded();
        using var model = LanguageModel.Load(Fixtures.Llama);
        var prompts = Enumerable.Range(0, 4).Select(p => (IReadOnlyList<int>)Enumerable.Range(0, 6).Select(i => 1000 + 97 * p + 13 * i).ToList()).ToList();
        bool prefill = true, decode = false;
        long settled = 0, end = 0;
        model.GenerateBatch(prompts, new GenerationOptions
        {
            MaxNewTokens = 40,
            StopTokens = [],
            OnToken = token =>
            {
                if (token.Sequence != 0) return;
                if (token.Step == 0) prefill = NativeHeap.Reusing;
                if (token.Step == 5) decode = NativeHeap.Reusing;
                if (token.Step == 10) settled = MemorySnapshot.ResidentBytes();
                end = MemorySnapshot.ResidentBytes();
            },
        });
        return $"prefill {prefill}, decode {decode}, after {NativeHeap.Reusing}\n{end - settled}";
    }

    /// <summary>
    /// Prints the page faults of a 20 MB tensor made after a 24 MB one was freed, outside a scope of
    /// <see cref="NativeHeap.ReuseBlocks"/> and inside two nested ones (a hole of the same size is not always reused:
    /// see there); then the resident bytes the freed blocks left after the inner scope ended, and after the outer one.
    /// </summary>
    public static string RunReuseProbe()
    {
        TorchRuntime.EnsureLoaded();
        Fill(1);
        Fill(24);
        long outside = FaultsOf(() => Fill(20));
        long before = MemorySnapshot.ResidentBytes();
        long inside, afterInner;
        using (NativeHeap.ReuseBlocks())
        {
            using (NativeHeap.ReuseBlocks())
            {
                Fill(24);
                inside = FaultsOf(() => Fill(20));
            }
            afterInner = MemorySnapshot.ResidentBytes() - before;
        }
        return $"{outside}\n{inside}\n{afterInner}\n{MemorySnapshot.ResidentBytes() - before}";
    }

    static long FaultsOf(Action run)
    {
        long before = MinorFaults();
        run();
        return MinorFaults() - before;
    }

    /// <summary>The process's minor page faults: minflt, field 10 of /proc/self/stat (field 3, the state, follows the command's closing parenthesis).</summary>
    static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7]);
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
