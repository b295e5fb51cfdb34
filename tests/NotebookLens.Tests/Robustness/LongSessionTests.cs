using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// tiny in float32: its stored bfloat16 runs matmuls ten times slower on a CPU without bfloat16 instructions, and these
/// tests run over a thousand analyses.
/// </summary>
public sealed class TinyFloat32 : IDisposable
{
    public LensModel Lens { get; } = LensModel.Load("tiny", new LoadOptions { DType = ScalarType.Float32 });

    public void Dispose() => Lens.Dispose();
}

/// <summary>Tests that measure the whole process (resident memory, tensors alive) run alone, after every other class.</summary>
[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public sealed class AloneCollection;

/// <summary>
/// A long notebook session on tiny: each kind of analysis 200 times in one process leaves the C heap (libtorch's tensors),
/// live managed memory, resident memory and the number of live tensors where they were after a warm-up.
/// </summary>
[Collection(nameof(AloneCollection))]
public sealed class LongSessionTests(TinyFloat32 tiny, ITestOutputHelper output) : IClassFixture<TinyFloat32>
{
    const int WarmUp = 20;
    const int Runs = 200;

    /// <summary>
    /// Growth allowed to the C heap, where libtorch keeps tensors: measured on tiny, it moved by −9 to +0.9 MB over 200
    /// runs of any kind when this class ran alone, up to +2.7 MB after the whole suite (the warm-up's high-water mark
    /// being freed, the runtime's own allocations), while one hidden state [1, 67, 192] kept per run added 6.6 to 33 MB
    /// (and 200 to 1,000 live tensors).
    /// </summary>
    const long HeapBound = 4_000_000;
    /// <summary>Live managed bytes after a full collection: measured within ±0.3 MB.</summary>
    const long ManagedBound = 1_000_000;
    /// <summary>
    /// Resident memory outside the managed heap (the C heap, mappings, JIT code, thread stacks) moved by −8 to +14 MB
    /// over 200 runs with the heaps above flat, so it only guards against what is neither a tensor nor managed and
    /// large (e.g. memory mapped anew per run); the bounds above are the fine ones.
    /// </summary>
    const long ResidentBound = 32_000_000;

    /// <summary>Long enough (about 150 tokens) that one leaked hidden state per run would exceed <see cref="HeapBound"/> three times (the assertion below checks it).</summary>
    static readonly string Text = string.Concat(Enumerable.Repeat("The apple is green and the sky is blue. ", 14)) + "What color is the apple?";

    LensModel Lens => tiny.Lens;

    public static TheoryData<string> Kinds => ["forward with cache", "logit lens", "attention", "generation with hooks", "refusal scoring"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Memory_stays_flat_over_200_runs(string kind)
    {
        var prompt = Lens.Prompt(Text);
        using (var hidden = empty([1, prompt.Count, Lens.Config.HiddenSize], dtype: Lens.DType))
            Assert.True(hidden.NumberOfElements * hidden.ElementSize * Runs > 3 * HeapBound, "the heap bound could not see one hidden state leaked per run");
        var run = Analysis(kind, prompt);
        for (int i = 0; i < WarmUp; i++) InCell(run);
        var before = MemorySnapshot.Take();
        var cpu = Environment.CpuUsage.TotalTime;
        for (int i = 0; i < Runs; i++) InCell(run);
        cpu = Environment.CpuUsage.TotalTime - cpu;
        var after = MemorySnapshot.Take();
        output.WriteLine($"{kind}, {prompt.Count} tokens, {Runs} runs in {cpu.TotalSeconds:F1} s of CPU: {before} → {after}");
        Assert.Equal(before.Tensors, after.Tensors);
        Assert.True(after.NativeHeap - before.NativeHeap < HeapBound, $"the C heap grew by {(after.NativeHeap - before.NativeHeap) / 1e6:F2} MB");
        Assert.True(after.Managed - before.Managed < ManagedBound, $"live managed memory grew by {(after.Managed - before.Managed) / 1e6:F2} MB");
        Assert.True(after.Unmanaged - before.Unmanaged < ResidentBound, $"resident memory outside the managed heap grew by {(after.Unmanaged - before.Unmanaged) / 1e6:F2} MB");
    }

    [Fact]
    public void A_refusal_scorer_that_fails_in_its_baselines_frees_what_it_kept_at_once()
    {
        var templated = new InstructionPrompts(Lens.Tokenizer);
        // The second harmless prompt is longer than the context: its batch fails after the first one's block inputs were kept.
        var tooLong = Enumerable.Repeat(templated.Ids(InstructionSets.Harmless[1]), 1 + Lens.Config.MaxPositions / 10).SelectMany(p => p).ToList();
        var harmful = templated.Ids(InstructionSets.Harmful.Take(2));
        IReadOnlyList<IReadOnlyList<int>> harmless = [templated.Ids(InstructionSets.Harmless[0]), tooLong];
        void Fail() => Assert.Contains("context", Assert.Throws<LensException>(() =>
            new RefusalScorer(Lens.Model, harmful, harmless, RefusalScorer.TokenIds(Lens.Tokenizer, ["I"]), batchSize: 1)).Message);
        InCell(Fail);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = Tensor.TotalCount;
        InCell(Fail);
        // No collection in between: finalizers could only lower the count, so anything above it is held (until a GC
        // runs: for a 3B model, tens of MB of block inputs).
        Assert.True(Tensor.TotalCount <= before, $"{Tensor.TotalCount - before} tensors still alive after the failed constructor");
    }

    /// <summary>As a notebook cell runs: in a dispose scope that ends with the cell.</summary>
    static void InCell(Action run)
    {
        using var cell = NewDisposeScope();
        run();
    }

    Action Analysis(string kind, Prompt prompt)
    {
        switch (kind)
        {
            case "forward with cache":
                return () =>
                {
                    var (_, cache) = Lens.RunWithCache(prompt);
                    Assert.NotEmpty(cache);
                };
            case "logit lens":
                return () => Lens.LogitLens(prompt, new LogitLensOptions { Targets = [" green"] });
            case "attention":
                return () => Lens.Attention(prompt);
            case "generation with hooks":
                return () =>
                {
                    // Made in the cell, as a student would: the hook set owns a copy of the vector.
                    Lens.Generate(prompt, GenerationOptions.Greedy(4) with { Hooks = CancellationTests.Steering(Lens), StopTokens = [] });
                };
            case "refusal scoring":
                var prompts = new InstructionPrompts(Lens.Tokenizer);
                var harmful = prompts.Ids(InstructionSets.Harmful.Take(2));
                var harmless = prompts.Ids(InstructionSets.Harmless.Take(2));
                var refusal = RefusalScorer.TokenIds(Lens.Tokenizer, ["I"]);
                var candidate = RefusalDirection.Of(2, -1, Lens.Weight("model.embed_tokens.weight")[Lens.TokenId(" green")]);
                return () =>
                {
                    using var scorer = new RefusalScorer(Lens.Model, harmful, harmless, refusal);
                    scorer.Score(candidate.Position, candidate.Layer, candidate.ToTensor());
                };
            default:
                throw new ArgumentException(kind);
        }
    }
}

/// <summary>
/// The process's memory after a full collection (so what only finalizers free does not count as held): resident
/// memory, the C heap's bytes in use (libtorch allocates tensors there), live managed bytes, and live tensors.
/// </summary>
public sealed partial record MemorySnapshot(long Rss, long ManagedCommitted, long NativeHeap, long Managed, long Tensors)
{
    public static MemorySnapshot Take()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // Aggressive: the GC hands back the regions it no longer uses at once; otherwise it does so gradually, and
        // memory it no longer counts as committed stayed resident (after the whole suite, a heap shrinking by 113 MB
        // left 38 MB of it, read as growth outside the managed heap).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        // Free pages the C heap keeps would count as resident: handed back first.
        MallocTrim(0);
        var heap = MallInfo2();
        return new MemorySnapshot(ResidentBytes(), GC.GetGCMemoryInfo().TotalCommittedBytes, (long)(heap.InUse + heap.Mapped),
            GC.GetTotalMemory(forceFullCollection: true), Tensor.TotalCount);
    }

    /// <summary>Resident memory less what the managed heap has committed.</summary>
    public long Unmanaged => Rss - ManagedCommitted;

    /// <summary>VmRSS of /proc/self/status, in bytes.</summary>
    public static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
    }

    /// <summary>glibc's <c>struct mallinfo2</c> (summed over every arena): ten size_t fields.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct HeapInfo
    {
        public nuint Arena, OrdBlocks, SmallBlocks, MappedBlocks, Mapped, MaxTotal, FreeSmall, InUse, Free, KeepCost;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial HeapInfo MallInfo2();

    public override string ToString() =>
        $"RSS {Rss / 1e6:F2} MB ({Unmanaged / 1e6:F2} MB outside the managed heap), C heap in use {NativeHeap / 1e6:F3} MB, managed {Managed / 1e6:F3} MB, {Tensors} tensors";
}
