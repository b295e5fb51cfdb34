using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookLens.Models;

/// <summary>
/// bf16 values as the kernels read and write them: a bf16 is the high half of an fp32, so widening is a shift and
/// narrowing rounds the low half away (to nearest even, as c10::BFloat16 does).
/// </summary>
internal static unsafe class Bf16
{
    /// <summary>Eight bf16 values as fp32: zero-extended to 32 bits and shifted into the high half (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(ushort* w) => Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(w), 16).AsSingle();

    /// <summary>Of 32 bf16 values loaded as 16 pairs (little-endian: the even one in each low half), the even ones as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Evens(Vector512<uint> pairs) => (pairs << 16).AsSingle();

    /// <summary>Of 32 bf16 values loaded as 16 pairs, the odd ones as fp32: the high halves as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Odds(Vector512<uint> pairs) => (pairs & Vector512.Create(0xFFFF0000u)).AsSingle();

    /// <summary>One bf16 value as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Eight fp32 values rounded to bf16 as <see cref="Round"/> does, and widened back: the low halves cleared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RoundToFloat(Vector256<float> values)
    {
        var bits = values.AsUInt32();
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) & Vector256.Create(0xFFFF0000u);
        return Vector256.ConditionalSelect(Vector256.Equals(values, values).AsUInt32(), rounded, Vector256.Create(0x7FC00000u)).AsSingle();
    }

    /// <summary>fp32 to bf16, rounding to nearest even; NaN stays a (quiet) NaN, as in c10::BFloat16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Round(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
