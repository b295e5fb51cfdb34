using System.Collections.Concurrent;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tests.Robustness;

namespace NotebookLens.Tests.Models;

/// <summary>
/// The kernels' own threads: every index once, the workers taking part (also after they slept), failures and overlaps.
/// Alone: the workers join the newest loop, so other tests' products running meanwhile would take them from these.
/// </summary>
[Collection(nameof(AloneCollection))]
public class KernelThreadsTests
{
    public KernelThreadsTests() => TorchRuntime.EnsureLoaded();

    /// <summary>Workers besides the caller: as many as libtorch computes with, less one.</summary>
    static bool HasWorkers => Math.Min(Environment.ProcessorCount, TorchSharp.torch.get_num_threads()) > 1;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    public void Runs_every_index_once(int count)
    {
        var runs = new int[count];
        KernelThreads.For(count, i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void With_libtorch_set_to_one_thread_the_caller_runs_every_index()
    {
        int threads = TorchSharp.torch.get_num_threads();
        var seen = new ConcurrentDictionary<int, int>();
        int counted;
        TorchSharp.torch.set_num_threads(1);
        try
        {
            counted = KernelThreads.Threads;
            KernelThreads.For(64, i =>
            {
                Thread.Sleep(1);
                seen[i] = Environment.CurrentManagedThreadId;
            });
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
        Assert.Equal(64, seen.Count);
        Assert.All(seen.Values, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
        Assert.Equal(1, counted);
    }

    [Fact]
    public void Threads_counts_the_caller_and_a_worker_for_each_other_thread_libtorch_computes_with() =>
        Assert.Equal(Math.Min(Environment.ProcessorCount, TorchSharp.torch.get_num_threads()), KernelThreads.Threads);

    [Fact]
    public void Returns_only_when_every_index_has_run()
    {
        int done = 0;
        KernelThreads.For(16, _ =>
        {
            Thread.Sleep(5);
            Interlocked.Increment(ref done);
        });
        Assert.Equal(16, Volatile.Read(ref done));
    }

    /// <summary>A loop's indices are shared with a worker; after the workers have gone to sleep (their spin is 1 ms), a new loop wakes them.</summary>
    [Fact]
    public void Workers_take_part_also_after_sleeping()
    {
        if (!HasWorkers) return; // one core: the caller runs every loop (the machines here and CI's have two)
        foreach (var pause in new[] { 0, 50 })
        {
            Thread.Sleep(pause);
            var threads = new ConcurrentDictionary<int, bool>();
            KernelThreads.For(100, _ =>
            {
                threads[Environment.CurrentManagedThreadId] = true;
                Thread.Sleep(2);
            });
            Assert.True(threads.Count > 1, $"after a pause of {pause} ms, one thread ran all 100 indices");
        }
    }

    [Fact]
    public void A_failing_index_fails_the_loop_and_the_threads_keep_working()
    {
        int ran = 0;
        var error = Assert.Throws<InvalidOperationException>(() => KernelThreads.For(50, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 7) throw new InvalidOperationException("index 7");
        }));
        Assert.Equal("index 7", error.Message);
        Assert.Equal(50, ran); // the others still ran: no index is left half done
        Runs_every_index_once(1000);
    }

    /// <summary>Loops from several threads at once, and a loop inside a loop's body: each runs every index once.</summary>
    [Fact]
    public void Overlapping_loops_each_run_every_index_once()
    {
        const int callers = 6, count = 300;
        var runs = new int[callers, count];
        var nested = new int[count];
        Parallel.For(0, callers, new ParallelOptions { MaxDegreeOfParallelism = callers }, c =>
            KernelThreads.For(count, i =>
            {
                Interlocked.Increment(ref runs[c, i]);
                if (c == 0 && i % 30 == 0) KernelThreads.For(count, j => Interlocked.Increment(ref nested[j]));
            }));
        for (int c = 0; c < callers; c++)
            for (int i = 0; i < count; i++) Assert.Equal(1, runs[c, i]);
        Assert.All(nested, n => Assert.Equal(10, n));
    }
}
