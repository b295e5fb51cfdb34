namespace NotebookLens.Loading;

/// <summary>
/// An exclusive lock on a file, as huggingface_hub takes one in <c>.locks/</c> before it writes a blob: .NET opens a
/// file with <see cref="FileShare.None"/> under <c>flock(LOCK_EX)</c>, the lock Python's filelock takes, so
/// NotebookLens and Python never write the same blob at once.
/// </summary>
static class FileLock
{
    const int WouldBlock = 11; // EWOULDBLOCK / EAGAIN on Linux
    const int SharingViolation = unchecked((int)0x80070020);

    /// <summary>Waits (until cancelled) while another process holds the lock: it is downloading the same file.</summary>
    public static async Task<FileStream> AcquireAsync(string path, CancellationToken cancel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException e) when (e.HResult is WouldBlock or SharingViolation or 35 /* EAGAIN on macOS */)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancel).ConfigureAwait(false);
            }
        }
    }
}
