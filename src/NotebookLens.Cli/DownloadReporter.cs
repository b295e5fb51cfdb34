using NotebookLens.Loading;

namespace NotebookLens.Cli;

/// <summary>
/// A model download's progress on standard error for a person: on a terminal one live line (bar, bytes, rate,
/// time left, file), elsewhere (a log, a pipe) a line per file and one at the end.
/// </summary>
sealed class DownloadReporter(TextWriter error, bool live) : IProgress<DownloadProgress>
{
    const int BarWidth = 24;
    int _file;

    public void Report(DownloadProgress p)
    {
        if (_file == 0)
            error.WriteLine($"downloading {p.RepoId}: {p.FileCount} file{(p.FileCount == 1 ? "" : "s")}, {Bytes.Format(p.BytesTotal)}");
        if (live)
        {
            // \e[K clears what a longer previous line left.
            error.Write($"\r{Line(p)}\u001b[K");
            if (p.Done) error.WriteLine();
        }
        else if (p.Done) error.WriteLine($"downloaded {Bytes.Format(p.BytesTotal)} ({Bytes.Format(p.BytesPerSecond)}/s)");
        else if (p.FileNumber != _file) error.WriteLine($"  [{p.FileNumber}/{p.FileCount}] {p.File}");
        error.Flush();
        _file = p.FileNumber;
    }

    internal static string Line(DownloadProgress p)
    {
        int filled = (int)Math.Round(p.Fraction * BarWidth);
        var rate = p.BytesPerSecond > 0 ? $"{Bytes.Format(p.BytesPerSecond)}/s" : "";
        var left = p.Done ? "" : p.Remaining is { } r ? $"{(int)r.TotalMinutes}:{r.Seconds:00} left" : "";
        return $"[{new string('#', filled)}{new string('-', BarWidth - filled)}] {p.Fraction * 100,3:0}%  {Bytes.Format(p.BytesDone)} / {Bytes.Format(p.BytesTotal)}  {rate}  {left}  {(p.Done ? "done" : $"{p.File} ({p.FileNumber}/{p.FileCount})")}";
    }
}
