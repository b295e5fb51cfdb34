using System.Diagnostics;
using NotebookLens.Runtime;

namespace NotebookLens.Tests.Runtime;

/// <summary>The CPU's maker and L1 data cache as <see cref="Cpu"/> reads them from CPUID, held to what Linux and glibc say.</summary>
public class CpuTests
{
    [Fact]
    public void The_vendor_is_the_one_linux_lists()
    {
        if (!File.Exists("/proc/cpuinfo")) return;
        var vendor = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("vendor_id", StringComparison.Ordinal));
        Assert.Equal(vendor.EndsWith("AuthenticAMD", StringComparison.Ordinal), Cpu.IsAmd);
    }

    [Fact]
    public void The_l1_data_cache_is_the_size_glibc_reports()
    {
        // glibc's own reading of the CPU (getconf): another decoding of the descriptors, which may know none (0 or empty).
        if (!OperatingSystem.IsLinux()) return;
        var getconf = Process.Start(new ProcessStartInfo("getconf", "LEVEL1_DCACHE_SIZE") { RedirectStandardOutput = true })!;
        string said = getconf.StandardOutput.ReadToEnd().Trim();
        getconf.WaitForExit();
        if (!int.TryParse(said, out int bytes) || bytes <= 0)
        {
            Assert.Equal(Cpu.AssumedL1DataBytes, Cpu.L1DataBytes);
            return;
        }
        Assert.Equal(bytes, Cpu.L1DataBytes);
    }

    [Theory]
    // Intel's L1 data caches of 32 KB (8 ways, one partition, 64-byte lines, 64 sets) and 48 KB (12 ways).
    [InlineData(7, 0, 63, 63, 32 << 10)]
    [InlineData(11, 0, 63, 63, 48 << 10)]
    // Two partitions of 16-byte lines in 128 sets, 4 ways: 16 KB (every field counts).
    [InlineData(3, 1, 15, 127, 16 << 10)]
    public void A_descriptor_gives_ways_times_partitions_times_line_times_sets(int waysLess1, int partitionsLess1, int lineLess1, int setsLess1, int bytes) =>
        Assert.Equal(bytes, Cpu.Size((waysLess1 << 22) | (partitionsLess1 << 12) | lineLess1, setsLess1));
}
