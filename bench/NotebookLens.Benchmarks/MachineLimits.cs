using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

/// <summary>What the machine can do at best, measured here and now: the denominators of the benchmarks' ratios.</summary>
static unsafe class MachineLimits
{
    /// <summary>
    /// Bytes per second that all cores together read from memory: a 1 GiB buffer (far beyond the caches) summed
    /// with 256-bit loads, one share per core, best of five passes. Resets the process's peak RSS afterwards.
    /// </summary>
    public static double ReadBandwidth()
    {
        const long bytes = 1L << 30;
        var buffer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            long count = bytes / sizeof(float);
            new Span<float>(buffer, (int)count).Fill(1f); // touches every page; ones, not denormals, keep the adds fast
            int parts = Environment.ProcessorCount;
            var sums = new float[parts];
            double best = bytes / Timing.BestSeconds(5, () => Parallel.For(0, parts, p => sums[p] = Sum(buffer + count * p / parts, count / parts)));
            return sums.Sum() > 0 ? best : throw new InvalidOperationException("the buffer read as zeros");
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            // The buffer is not the program's memory: reset the peak RSS (VmHWM) so that what is measured next excludes it.
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
    }

    static float Sum(float* from, long count)
    {
        Vector256<float> a = default, b = default, c = default, d = default;
        for (long i = 0; i + 32 <= count; i += 32)
        {
            a += Vector256.Load(from + i);
            b += Vector256.Load(from + i + 8);
            c += Vector256.Load(from + i + 16);
            d += Vector256.Load(from + i + 24);
        }
        return Vector256.Sum(a + b + c + d);
    }
}
