using System.Diagnostics;

namespace NotebookLens.Runtime;

/// <summary>
/// How long work stands, for a progress bar — one type for downloads, loads and long analyses (generation, the
/// refusal experiment, Patchscope sweeps), so the CLI and the notebook draw every one the same way.
/// </summary>
/// <param name="Stage">What is being done, e.g. "download", "load", "score candidates", "generate".</param>
/// <param name="Done">Units done so far in this stage.</param>
/// <param name="Total">Units in this stage, or null when not known in advance.</param>
/// <param name="Elapsed">Time since the stage started.</param>
/// <param name="Remaining">Estimated time left in this stage, or null while there is no estimate.</param>
/// <param name="Unit">What is counted ("B" for bytes, "candidates", "tokens", ...).</param>
/// <param name="Detail">What is being worked on now (a file, a layer), for a person.</param>
/// <param name="Rate">Units per second, or null while unknown.</param>
public sealed record LensProgress(
    string Stage, long Done, long? Total, TimeSpan Elapsed, TimeSpan? Remaining,
    string Unit = "", string? Detail = null, double? Rate = null)
{
    /// <summary>Done / Total in [0, 1], or null when the total is unknown.</summary>
    public double? Fraction => Total switch { null => null, <= 0 => 1.0, long t => Math.Clamp((double)Done / t, 0, 1) };

    /// <summary>True in a stage's last report.</summary>
    public bool Finished => Total is long t && Done >= t;
}

/// <summary>
/// Counts the steps of one stage and reports them, with the time left extrapolated from the mean time per step
/// so far. Reports at most every <see cref="Every"/> besides the first and the last step.
/// </summary>
public sealed class ProgressCounter(IProgress<LensProgress>? progress, string stage, long total, string unit)
{
    static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);

    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan _last = TimeSpan.MinValue;
    long _done;

    /// <summary>Reports the stage at zero (call before the first step).</summary>
    public ProgressCounter Start(string? detail = null)
    {
        Report(detail, force: true);
        return this;
    }

    /// <summary>One more step done.</summary>
    public void Step(string? detail = null, long steps = 1)
    {
        _done += steps;
        Report(detail, force: _done >= total);
    }

    void Report(string? detail, bool force)
    {
        if (progress is null) return;
        var now = _clock.Elapsed;
        if (!force && now - _last < Every) return;
        _last = now;
        TimeSpan? remaining = _done >= total ? TimeSpan.Zero
            : _done > 0 ? TimeSpan.FromTicks(now.Ticks / _done * (total - _done)) : null;
        double? rate = now.TotalSeconds > 0 && _done > 0 ? _done / now.TotalSeconds : null;
        progress.Report(new LensProgress(stage, _done, total, now, remaining, unit, detail, rate));
    }
}
