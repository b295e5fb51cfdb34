namespace NotebookLens.Loading;

/// <summary>Free space checks before a download, and recognising a full disk while writing.</summary>
static class DiskSpace
{
    /// <summary>Throws before anything is downloaded when the cache's disk cannot take <paramref name="bytes"/> more.</summary>
    public static void Require(string folder, long bytes, string what)
    {
        Directory.CreateDirectory(folder);
        long free = new DriveInfo(folder).AvailableFreeSpace;
        if (free < bytes) throw Full(folder, $"{what} needs {Bytes.Format(bytes)} but the disk has {Bytes.Format(free)} free");
    }

    /// <summary>ENOSPC on Linux and macOS; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsFull(IOException e) => e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    public static HubException Full(string folder, string detail, Exception? inner = null) => new(HubErrorKind.DiskFull,
        $"Not enough disk space for the Hugging Face cache in {folder}: {detail}. Free some space, or move the cache to a bigger disk with HF_HUB_CACHE (or HF_HOME). What was downloaded is kept, and the next run resumes from there.",
        inner);
}

/// <summary>Byte counts for people: 1.5 GB, 820 MB (decimal units, as the hub's file lists show them).</summary>
public static class Bytes
{
    public static string Format(double bytes) => bytes switch
    {
        >= 1e9 => $"{bytes / 1e9:0.0} GB",
        >= 1e6 => $"{bytes / 1e6:0.0} MB",
        >= 1e3 => $"{bytes / 1e3:0} kB",
        _ => $"{bytes:0} B",
    };
}
