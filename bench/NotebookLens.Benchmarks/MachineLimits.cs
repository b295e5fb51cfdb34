using System.Diagnostics;
using System.Runtime.Intrinsics;

/// <summary>What the machine can do at best, measured here and now: the denominators of the benchmarks' ratios.</summary>
static unsafe class MachineLimits
{
    /// <summary>Bytes a thread takes at a time: a late or interrupted thread leaves the rest to the others, as in the kernels.</summary>
    const long Piece = 1 << 20;

    /// <summary>
    /// Seconds that all cores together take to read <paramref name="regions"/> once: each summed as integers with
    /// 256-bit loads (no floating-point slow paths whatever the bytes hold), in pieces the threads take one at a time.
    /// Given a model's mapped weights, this is the read of a decode step with no arithmetic: its bound.
    /// </summary>
    public static double ReadSeconds(IReadOnlyList<(nint Start, long Bytes)> regions)
    {
        var pieces = regions.SelectMany(r => Enumerable.Range(0, (int)((r.Bytes + Piece - 1) / Piece))
            .Select(i => (Start: r.Start + i * Piece, Bytes: Math.Min(Piece, r.Bytes - i * Piece)))).ToArray();
        long total = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, pieces.Length, () => 0L, (i, _, sum) => sum + Sum((byte*)pieces[i].Start, pieces[i].Bytes), sum => Interlocked.Add(ref total, sum));
        double seconds = clock.Elapsed.TotalSeconds;
        GC.KeepAlive(total);
        return seconds;
    }

    static long Sum(byte* from, long bytes)
    {
        Vector256<int> a = default, b = default, c = default, d = default;
        long i = 0;
        for (; i + 128 <= bytes; i += 128)
        {
            a += Vector256.Load((int*)(from + i));
            b += Vector256.Load((int*)(from + i + 32));
            c += Vector256.Load((int*)(from + i + 64));
            d += Vector256.Load((int*)(from + i + 96));
        }
        long sum = Vector256.Sum(a + b + c + d);
        for (; i < bytes; i++) sum += from[i];
        return sum;
    }
}
