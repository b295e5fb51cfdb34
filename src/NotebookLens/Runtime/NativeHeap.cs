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
    /// For a loop that allocates and frees the same large blocks over and over (training): until the returned scope is
    /// disposed, blocks below <paramref name="bytes"/> are kept in the heap for reuse instead of being mapped anew, which
    /// costs a page fault per 4 KB (45 % of tiny's training time at 256 KB). Disposing restores
    /// <see cref="HandBackLargeBlocks"/> and glibc's default trim threshold. A threshold the environment sets
    /// (<c>MALLOC_MMAP_THRESHOLD_</c>) is the user's choice and stays as it is.
    /// </summary>
    public static IDisposable KeepBlocksBelow(int bytes)
    {
        if (UserThreshold is not null) return new Restore(restore: false);
        TrySet(MmapThreshold, bytes);
        TrySet(TrimThreshold, 2 * bytes);
        return new Restore();
    }

    sealed class Restore(bool restore = true) : IDisposable
    {
        public void Dispose()
        {
            if (!restore) return;
            HandBackLargeBlocks();
            TrySet(TrimThreshold, DefaultTrimThreshold);
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

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int SetOption(int option, int value);
}
