using System.Diagnostics;

namespace NotebookLens.Loading;

/// <summary>
/// Where a model download stands, for a progress bar: bytes of all its files so far and in total, the file
/// being fetched, the recent transfer rate and the time left at that rate.
/// </summary>
/// <param name="File">The repository file being fetched now.</param>
/// <param name="FileNumber">1-based position of <paramref name="File"/> among the <paramref name="FileCount"/> files fetched.</param>
/// <param name="BytesDone">Bytes on disk so far, including those of an earlier, interrupted run that this one resumed.</param>
/// <param name="BytesPerSecond">Transfer rate over the last few seconds (0 in the first half second); in the last report, the average.</param>
/// <param name="Remaining">Time left at that rate, or null while the rate is unknown.</param>
/// <param name="Done">True in the last report, once every file is in place.</param>
public sealed record DownloadProgress(
    string RepoId, string File, int FileNumber, int FileCount, long BytesDone, long BytesTotal,
    double BytesPerSecond, TimeSpan? Remaining, bool Done)
{
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;
}

/// <summary>Counts a download's bytes and reports <see cref="DownloadProgress"/> at most every 100 ms, plus at each file's start and at the end.</summary>
sealed class ProgressMeter(string repoId, int fileCount, long bytesTotal, IProgress<DownloadProgress>? progress)
{
    static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);
    // A rate over less time than this is mostly latency, and the time left it gives is wild.
    static readonly TimeSpan ShortestRate = TimeSpan.FromSeconds(0.5);

    readonly Stopwatch _clock = Stopwatch.StartNew();
    // (time, bytes transferred) at the reports of the last RateWindow; resumed bytes count as done but not as transferred.
    readonly Queue<(TimeSpan At, long Transferred)> _samples = new();
    long _done, _transferred;
    TimeSpan _lastReport = TimeSpan.MinValue;
    string _file = "";
    int _fileNumber;

    public void StartFile(string file)
    {
        _file = file;
        _fileNumber++;
        Report(done: false, force: true);
    }

    /// <summary>Bytes received from the network.</summary>
    public void Transferred(int bytes)
    {
        _done += bytes;
        _transferred += bytes;
        Report(done: false, force: false);
    }

    /// <summary>Bytes found on disk from an interrupted run (positive), or dropped to start a file over (negative).</summary>
    public void Adjust(long bytes) => _done += bytes;

    public void Finish() => Report(done: true, force: true);

    void Report(bool done, bool force)
    {
        var now = _clock.Elapsed;
        if (progress is null || (!force && now - _lastReport < ReportEvery)) return;
        _lastReport = now;
        _samples.Enqueue((now, _transferred));
        while (now - _samples.Peek().At > RateWindow) _samples.Dequeue();
        var (since, from) = _samples.Peek();
        double rate = done ? _transferred / Math.Max(now.TotalSeconds, 1e-3)
            : now - since >= ShortestRate ? (_transferred - from) / (now - since).TotalSeconds
            : 0;
        TimeSpan? remaining = done ? TimeSpan.Zero : rate > 0 ? TimeSpan.FromSeconds((bytesTotal - _done) / rate) : null;
        progress.Report(new DownloadProgress(repoId, _file, _fileNumber, fileCount, _done, bytesTotal, rate, remaining, done));
    }
}
