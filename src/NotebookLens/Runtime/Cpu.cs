using System.Runtime.Intrinsics.X86;

namespace NotebookLens.Runtime;

/// <summary>What the kernels ask of the CPU beyond its instruction sets: its maker and its L1 data cache.</summary>
internal static class Cpu
{
    /// <summary>Whether the CPU is AMD's (CPUID leaf 0: "AuthenticAMD").</summary>
    public static bool IsAmd { get; } = X86Base.IsSupported && X86Base.CpuId(0, 0) is (_, 0x68747541, 0x444D4163, 0x69746E65);

    /// <summary>What a CPU without the leaf is assumed to have: the smallest L1 data cache of the x86-64 CPUs with AVX-512.</summary>
    internal const int AssumedL1DataBytes = 32 << 10;

    /// <summary>
    /// The L1 data cache of a core in bytes as CPUID gives it (AMD: leaf 0x80000005, in KB; Intel: leaf 4's cache
    /// descriptors), or <see cref="AssumedL1DataBytes"/> where it does not say. Read from the CPU, not from <c>/sys</c>:
    /// the AMD EPYC VM these kernels were measured on has no <c>/sys/devices/system/cpu/cpu0/cache</c>, and its leaf
    /// 0x8000001D (the descriptors in Intel's layout) reads as zeros.
    /// </summary>
    public static int L1DataBytes { get; } = ReadL1Data() ?? AssumedL1DataBytes;

    static int? ReadL1Data()
    {
        if (!X86Base.IsSupported) return null;
        if (IsAmd)
        {
            const int l1Leaf = unchecked((int)0x80000005);
            if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000005u) return null;
            int kilobytes = (int)((uint)X86Base.CpuId(l1Leaf, 0).Ecx >> 24);
            return kilobytes > 0 ? kilobytes << 10 : null;
        }
        if (X86Base.CpuId(0, 0).Eax < 4) return null;
        for (int index = 0; index < 16; index++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(4, index);
            int type = eax & 0x1F, level = (eax >> 5) & 7;
            if (type == 0) return null; // no more caches
            if (type == 1 && level == 1) return Size(ebx, ecx);
        }
        return null;
    }

    /// <summary>A cache's bytes from its descriptor in CPUID leaf 4: ways x partitions x line bytes x sets, each stored less one.</summary>
    internal static int Size(int ebx, int ecx) =>
        (((ebx >> 22) & 0x3FF) + 1) * (((ebx >> 12) & 0x3FF) + 1) * ((ebx & 0xFFF) + 1) * (ecx + 1);
}
