using System.Diagnostics;

/// <summary>The benchmarks' one way to time a repeated piece of work.</summary>
static class Timing
{
    /// <summary>The shortest of <paramref name="passes"/> timed runs, after <paramref name="warmUp"/> untimed ones: the machine's noise only ever adds time.</summary>
    public static double BestSeconds(int passes, Action run, int warmUp = 0)
    {
        for (int i = 0; i < warmUp; i++) run();
        double best = double.MaxValue;
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
