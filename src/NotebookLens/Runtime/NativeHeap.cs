using System.Runtime.InteropServices;

namespace NotebookLens.Runtime;

/// <summary>
/// glibc's malloc, which libtorch allocates tensors with, raises its mmap threshold to the size of every large block
/// freed (up to 32 MB); blocks below it then come from the heap and stay resident after they are freed. A forward
/// pass frees blocks of every size, so a session kept the largest activations it had ever made (0.2–0.3 GB on the
/// 1B-shaped benchmark). A fixed threshold turns that off: every block from 256 KB up is mapped on its own and
/// handed back to the system when freed.
/// </summary>
internal static partial class NativeHeap
{
    const int MmapThreshold = -3; // M_MMAP_THRESHOLD in malloc.h
    const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    const int DefaultTrimThreshold = 128 * 1024; // DEFAULT_TRIM_THRESHOLD in glibc's malloc.c
    const int LargeBlock = 256 * 1024;
    const int ReusedBlock = 32 * 1024 * 1024; // DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: mallopt refuses more

    static string? UserThreshold => Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is { Length: > 0 } set ? set : null;

    /// <summary>Fixes glibc's mmap threshold, unless the environment already sets one (<c>MALLOC_MMAP_THRESHOLD_</c>).</summary>
    public static string HandBackLargeBlocks()
    {
        if (UserThreshold is { } set) return $"malloc mmap threshold {set} (MALLOC_MMAP_THRESHOLD_)";
        try
        {
            return SetOption(MmapThreshold, LargeBlock) == 1 ? $"malloc mmap threshold {LargeBlock / 1024} KB" : "malloc mmap threshold unchanged (refused)";
        }
        catch (EntryPointNotFoundException)
        {
            return "malloc mmap threshold unchanged (no mallopt: not glibc)";
        }
    }

    /// <summary>
    /// For work that allocates and frees large blocks over and over (a forward pass: its layers' activations; training):
    /// until every scope this returns is disposed, blocks up to 32 MB (glibc's largest mmap threshold) come from the
    /// heap and are reused instead of being mapped anew, which costs a page fault per 4 KB. On an AMD EPYC Zen 5 VM a
    /// 128-token prefill of Llama-3.2-1B's shapes keeping everything took 1.5 s in bf16 and 2.6 s in fp32 with every block
    /// mapped, 0.8 and 1.35 s in a scope (45 % of tiny's training time went to the faults). Scopes nest, from any thread;
    /// the last to end restores <see cref="HandBackLargeBlocks"/> and glibc's default trim threshold and hands the heap's
    /// free pages back to the system (malloc_trim). A scope is one pass, or the decode steps of a generation after its
    /// prefill, not a whole generation or an experiment: libtorch allocates with posix_memalign, which in glibc 2.36 asks
    /// for more than the block and often cannot reuse a hole of the same size, so a long scope over blocks of many sizes
    /// grows the heap (five 20 MB tensors made and freed in turn each took new memory; over a whole generation, prefill
    /// included, its peak RSS rose by 0.01-0.02x the checkpoint). Decode steps make the same few blocks again and again:
    /// over 200 steps of eight sequences, each step's 1,000 page faults (14 µs each on an AMD EPYC VM) went to none and
    /// the peak RSS stayed where the prefill left it (2.720 against 2.721 GB). That a freed block fits its hole depends
    /// on the small blocks made in between: with the logits on the heap, an argmax of our own (which removed libtorch's
    /// small blocks) made the test fixture's 1 MB logits take new pages at every step, so the logits now take blocks of
    /// their own (<see cref="HugePages.LogitsMinBytes"/>); NativeHeapTests holds the growth. A threshold the environment sets
    /// (<c>MALLOC_MMAP_THRESHOLD_</c>) is the user's choice and stays as it is.
    /// </summary>
    public static IDisposable ReuseBlocks()
    {
        if (UserThreshold is not null) return new Reuse(counted: false);
        lock (Gate)
            if (_reusers++ == 0)
            {
                TrySet(MmapThreshold, ReusedBlock);
                TrySet(TrimThreshold, 2 * ReusedBlock);
            }
        return new Reuse(counted: true);
    }

    static readonly Lock Gate = new();
    /// <summary>Scopes of <see cref="ReuseBlocks"/> not yet disposed.</summary>
    static int _reusers;

    /// <summary>Whether a scope of <see cref="ReuseBlocks"/> is open (blocks up to 32 MB come from the heap).</summary>
    internal static bool Reusing
    {
        get
        {
            lock (Gate) return _reusers > 0;
        }
    }

    sealed class Reuse(bool counted) : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (!counted || Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (Gate)
                if (--_reusers == 0)
                {
                    HandBackLargeBlocks();
                    TrySet(TrimThreshold, DefaultTrimThreshold);
                    try
                    {
                        Trim(0);
                    }
                    catch (EntryPointNotFoundException)
                    {
                    }
                }
        }
    }

    /// <summary>Sets a malloc option where the C library is glibc; elsewhere there is nothing to set.</summary>
    static void TrySet(int option, int value)
    {
        try
        {
            SetOption(option, value);
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int Trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int SetOption(int option, int value);
}
