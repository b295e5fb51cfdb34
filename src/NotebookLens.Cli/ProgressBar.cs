using NotebookLens.Runtime;

namespace NotebookLens.Cli;

/// <summary>
/// Long work's <see cref="LensProgress"/> on standard error for a person: on a terminal one live line per stage (bar,
/// count, time left, what is being done), elsewhere (a log, a pipe) one line when a stage finishes.
/// </summary>
sealed class ProgressBar(TextWriter error, bool live) : IProgress<LensProgress>
{
    const int BarWidth = 24;

    public void Report(LensProgress p)
    {
        if (live)
        {
            // \e[K clears what a longer previous line left.
            error.Write($"\r{Line(p)}\u001b[K");
            if (p.Finished) error.WriteLine();
        }
        else if (p.Finished) error.WriteLine($"{p.Stage}: {p.Done} {p.Unit} in {Seconds(p.Elapsed)}");
        error.Flush();
    }

    internal static string Line(LensProgress p)
    {
        var fraction = p.Fraction ?? 0;
        int filled = (int)Math.Round(fraction * BarWidth);
        var left = p.Finished ? $"{Seconds(p.Elapsed)}" : p.Remaining is { } r ? $"{(int)r.TotalMinutes}:{r.Seconds:00} left" : "";
        var total = p.Total is long t ? $"/{t}" : "";
        return $"{p.Stage} [{new string('#', filled)}{new string('-', BarWidth - filled)}] {p.Done}{total} {p.Unit}  {left}  {p.Detail}".TrimEnd();
    }

    static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.0} s";
}
