using System.Runtime.Intrinsics;
using NotebookLens.Models;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Generation;

/// <summary>
/// Greedy decoding's choice: each row's argmax of a step's logits. libtorch's bf16 argmax widens and compares one element
/// at a time: eight rows of Llama 3's 128,256-token vocabulary took 2-4 ms of a 70-90 ms decode step (AMD EPYC Zen 5 VM,
/// `perf`), where two vector passes over each row (its maximum, then where it first is) read it from cache in a fraction
/// of that. It chooses as libtorch does: the first of equal maxima (+0 and -0 are equal), the first NaN in a row that has one.
/// </summary>
internal static unsafe class GreedyChoice
{
    const int Lane = 8;

    /// <summary>Each row's argmax of <paramref name="logits"/> <c>[rows, vocab]</c>: ours for bf16 rows in CPU memory with AVX2, libtorch's otherwise.</summary>
    public static long[] Argmax(Tensor logits)
    {
        if (!Bf16MatVec.Supported || logits.dtype != ScalarType.BFloat16 || logits.device_type != DeviceType.CPU || logits.dim() != 2 || logits.stride(1) != 1)
            return logits.argmax(1).ToHostArray<long>();
        var choices = new long[logits.shape[0]];
        var first = (ushort*)TensorMemory.Start(logits);
        int columns = checked((int)logits.shape[1]);
        for (int r = 0; r < choices.Length; r++) choices[r] = Row(first + r * logits.stride(0), columns);
        return choices;
    }

    /// <summary>The argmax of one row of <paramref name="n"/> bf16 values at <paramref name="x"/>.</summary>
    static int Row(ushort* x, int n)
    {
        var most = Vector256.Create(float.NegativeInfinity);
        var nan = Vector256<float>.Zero;
        int j = 0;
        for (; j + Lane <= n; j += Lane)
        {
            var v = Bf16.Widen(x + j);
            most = Vector256.Max(most, v);
            nan |= ~Vector256.Equals(v, v);
        }
        float max = float.NegativeInfinity;
        bool anyNan = nan != Vector256<float>.Zero;
        for (int k = 0; k < Lane; k++) max = MathF.Max(max, most[k]);
        for (; j < n; j++)
        {
            float v = Bf16.ToFloat(x[j]);
            anyNan |= float.IsNaN(v);
            max = MathF.Max(max, v);
        }
        var top = Vector256.Create(max);
        for (j = 0; j + Lane <= n; j += Lane)
        {
            var v = Bf16.Widen(x + j);
            var hit = anyNan ? ~Vector256.Equals(v, v) : Vector256.Equals(v, top);
            if (hit != Vector256<float>.Zero) return j + System.Numerics.BitOperations.TrailingZeroCount(hit.ExtractMostSignificantBits());
        }
        for (; j < n; j++)
        {
            float v = Bf16.ToFloat(x[j]);
            if (anyNan ? float.IsNaN(v) : v == max) return j;
        }
        return 0;
    }
}
