using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NotebookLens.Models;

/// <summary>
/// The threads that run the kernels' parallel loops (<see cref="Bf16MatVec"/>, <see cref="DecodeAttention"/>): as many
/// as libtorch computes with, the caller's included, kept for the life of the process. After a loop they wait for the
/// next one spinning (yielding their core to any thread that wants it) for <see cref="SpinTime"/>, then sleep. A decode
/// step runs 65 products with libtorch's small operations in between, one every 0.1-0.5 ms: through the .NET thread
/// pool, whose workers had gone to sleep by then, the second thread joined a product 75-160 µs after it began (5-24 ms of
/// a step of Llama-3.2-1B's shapes); with these, 0.3-5 ms, and a decode step of 8 sequences took 99-118 ms against
/// 104-140 (two cores, AMD EPYC Zen 5; alternating in one process, seven of eight pairs faster).
/// </summary>
internal static class KernelThreads
{
    static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(1);

    static readonly Lazy<Team> Shared = new(() => new Team(Math.Min(Environment.ProcessorCount, TorchSharp.torch.get_num_threads()) - 1));

    /// <summary>
    /// Runs <paramref name="body"/> for 0 .. <paramref name="count"/> - 1, the indices taken one at a time by the caller and
    /// the workers (a thread that starts late leaves its share to the others), and returns when all have run, rethrowing
    /// the first exception. Loops started while another runs (from other threads, or from a body) are as correct: each
    /// caller works on its own loop until no index is left, and idle workers join the newest. With libtorch set to one
    /// thread since (<c>torch.set_num_threads(1)</c>), the caller runs every index itself.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count > 1 && Threads > 1) Shared.Value.For(count, body);
        else Inline(count, body);
    }

    /// <summary>The threads <see cref="For"/> runs a loop on, the caller's included: one where libtorch is set to one thread.</summary>
    public static int Threads => TorchSharp.torch.get_num_threads() > 1 ? 1 + Shared.Value.Workers : 1;

    static void Inline(int count, Action<int> body)
    {
        for (int i = 0; i < count; i++) body(i);
    }

    /// <summary>One loop's indices and what became of them.</summary>
    sealed class Loop(int count, Action<int> body)
    {
        int _next = -1, _finished;
        Exception? _error;

        public bool Finished => Volatile.Read(ref _finished) == count;

        /// <summary>Takes indices until none is left.</summary>
        public void Help()
        {
            for (int i = Interlocked.Increment(ref _next); i < count; i = Interlocked.Increment(ref _next))
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                }
                Interlocked.Increment(ref _finished);
            }
        }

        public void ThrowIfFailed()
        {
            if (_error is { } e) ExceptionDispatchInfo.Throw(e);
        }
    }

    sealed class Team
    {
        readonly object _sleep = new();
        Loop? _loop;
        long _generation;
        int _sleepers;

        public Team(int workers)
        {
            Workers = Math.Max(0, workers);
            for (int i = 0; i < Workers; i++)
                new Thread(Work) { IsBackground = true, Name = $"NotebookLens kernel {i + 1}" }.Start();
        }

        public int Workers { get; }

        public void For(int count, Action<int> body)
        {
            var loop = new Loop(count, body);
            Volatile.Write(ref _loop, loop);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleep) Monitor.PulseAll(_sleep);
            loop.Help();
            // What is left is the indices the workers are on: short, so the caller spins (yielding) rather than sleeps.
            var spin = new SpinWait();
            while (!loop.Finished) spin.SpinOnce(sleep1Threshold: -1);
            loop.ThrowIfFailed();
        }

        void Work()
        {
            long seen = 0;
            while (true)
            {
                WaitForLoopAfter(seen);
                // The loop is published before its generation: the one read after the generation is that loop or a newer.
                seen = Volatile.Read(ref _generation);
                Volatile.Read(ref _loop)!.Help();
            }
        }

        void WaitForLoopAfter(long seen)
        {
            var clock = Stopwatch.StartNew();
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (clock.Elapsed < SpinTime)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                lock (_sleep)
                {
                    // A full fence between counting itself and reading the generation: the caller does the same in the
                    // other order, so either it sees a sleeper and pulses, or the sleeper sees the new loop.
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen) Monitor.Wait(_sleep);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
        }
    }
}
