namespace NotebookLens.Runtime;

/// <summary>
/// Refuses work that cannot fit in memory before it starts, with advice, rather than letting the
/// allocator fail halfway (or the kernel kill the notebook).
/// </summary>
internal static class MemoryCheck
{
    /// <summary>Memory the kernel says can be allocated without swapping (MemAvailable), or null where unknown.</summary>
    public static long? AvailableBytes()
    {
        const string path = "/proc/meminfo";
        if (!File.Exists(path)) return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 2 } && long.TryParse(parts[1], out var kb) ? kb * 1024 : null;
    }

    /// <summary>Throws <see cref="InsufficientMemoryException"/> when <paramref name="required"/> exceeds <paramref name="available"/>.</summary>
    public static void Require(long required, long? available, string what, string advice)
    {
        if (available is not long free || required <= free) return;
        throw new InsufficientMemoryException(
            $"{what} needs about {Gb(required)} of memory but only {Gb(free)} is available. {advice}");
    }

    static string Gb(long bytes) => $"{bytes / 1e9:F1} GB";
}
