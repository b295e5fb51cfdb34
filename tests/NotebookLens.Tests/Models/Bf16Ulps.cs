using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>How far apart bf16 results are, in steps of bf16 (units in the last place).</summary>
internal static class Bf16Ulps
{
    /// <summary>Distance in bf16 steps between equal-shaped bf16 tensors (both finite).</summary>
    public static int[] Between(Tensor a, Tensor b)
    {
        var x = Bits(a);
        var y = Bits(b);
        return x.Zip(y, (p, q) => Math.Abs(Ordered(p) - Ordered(q))).ToArray();
    }

    /// <summary>bf16 bits mapped to integers that count up with the value (sign-magnitude to two's complement order).</summary>
    static int Ordered(ushort bits) => (bits & 0x8000) != 0 ? -(bits & 0x7FFF) : bits;

    /// <summary>A bf16 tensor's bit patterns: widening to fp32 is exact and keeps them in the upper half.</summary>
    public static ushort[] Bits(Tensor bf16) =>
        bf16.flatten().to(ScalarType.Float32).data<float>().ToArray().Select(f => (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16)).ToArray();
}
