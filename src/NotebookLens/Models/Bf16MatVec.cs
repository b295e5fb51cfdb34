using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// A few bf16 rows times a bf16 weight matrix <c>[out, in]</c> — the linear layers of a batched decode step (one row
/// per sequence). libtorch's bf16 matmul takes almost eight times as long for eight rows as for one (the 525 MB output
/// layer: 223 against 35 ms on an AMD EPYC with AVX2); this kernel reads the weights in place, once per call whatever the
/// number of rows. Like libtorch it widens to fp32, accumulates in fp32 and rounds each output once to bf16 (nearest
/// even); only the order of the additions differs.
/// </summary>
internal static unsafe class Bf16MatVec
{
    /// <summary>Input rows one call takes: a decode batch. Past that the work is a real GEMM, libtorch's job.</summary>
    public const int MaxInputs = 8;
    /// <summary>Weight rows per inner step: four of them share each load of an input.</summary>
    const int Block = 4;
    /// <summary>bf16 elements per 256-bit load (pairs: the even one in the low half of each 32-bit lane).</summary>
    const int Lane = 16;

    /// <summary>Whether the kernel runs on this machine (AVX2 with FMA, and the tensor memory export); otherwise libtorch does the work.</summary>
    public static bool Supported { get; } = Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported && TensorMemory.Available;

    /// <summary>
    /// For which products the kernel runs, per process: <c>NOTEBOOKLENS_MATVEC=torch</c> never, <c>=ours</c> for one
    /// row too (both to compare, as the benchmark does); by default from two rows. One row is libtorch's: its 1-row
    /// product streams the weights as fast as this kernel in isolation, and inside a decode loop this kernel's .NET
    /// threads share the cores with libtorch's spinning OpenMP workers (bench decode: 310 against 202 ms per token).
    /// </summary>
    public static int MinInputs { get; } = !Supported ? int.MaxValue : Environment.GetEnvironmentVariable("NOTEBOOKLENS_MATVEC") switch
    {
        "torch" => int.MaxValue,
        "ours" => 1,
        _ => 2,
    };

    [ThreadStatic] static float[]? _inputs;

    /// <summary>Whether <see cref="Multiply"/> handles <c>x · weightᵀ</c>: <see cref="MinInputs"/> to <see cref="MaxInputs"/> bf16 rows against a contiguous bf16 CPU matrix.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        !x.requires_grad && !weight.requires_grad && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && weight.dim() == 2 && weight.shape[1] % Lane == 0 && x.shape[^1] == weight.shape[1]
        && x.numel() <= MaxInputs * weight.shape[1] && x.numel() >= MinInputs * weight.shape[1] && weight.is_contiguous();

    /// <summary><c>x · weightᵀ</c> with <c>x</c>'s leading shape and <c>out</c> features, in bf16.</summary>
    public static Tensor Multiply(Tensor x, Tensor weight)
    {
        int outputs = checked((int)weight.shape[0]), cols = checked((int)weight.shape[1]);
        int inputs = checked((int)(x.numel() / cols));
        var split = _inputs is { } buffer && buffer.Length >= inputs * cols ? buffer
            : _inputs = GC.AllocateUninitializedArray<float>(MaxInputs * cols, pinned: true);
        using (var rows = x.contiguous())
            for (int i = 0; i < inputs; i++) SplitPairs((ushort*)TensorMemory.Address(rows) + (long)i * cols, cols, split.AsSpan(i * cols, cols));

        long[] shape = [.. x.shape[..^1], outputs];
        var result = empty(shape, dtype: ScalarType.BFloat16, device: x.device);
        var job = new Job((ushort*)TensorMemory.Address(weight), outputs, cols, split, inputs, (ushort*)TensorMemory.Address(result));
        int parts = Math.Max(1, Math.Min(get_num_threads(), outputs / Block));
        if (parts == 1) job.Run(0, outputs);
        else Parallel.For(0, parts, p => job.Run(Boundary(outputs, p, parts), Boundary(outputs, p + 1, parts)));
        return result;
    }

    /// <summary>Part <paramref name="p"/>'s first weight row: equal shares, each starting on a whole block.</summary>
    static int Boundary(int outputs, int p, int parts) => p == parts ? outputs : (int)((long)outputs * p / parts) / Block * Block;

    /// <summary>
    /// One input row as fp32, evens in the first half and odds in the second: a 32-bit load of the weights holds an
    /// (even, odd) pair, which shifting and masking turn into two fp32 vectors without shuffles.
    /// </summary>
    static void SplitPairs(ushort* x, int cols, Span<float> into)
    {
        int half = cols / 2;
        for (int j = 0; j < half; j++)
        {
            into[j] = Widen(x[2 * j]);
            into[half + j] = Widen(x[2 * j + 1]);
        }
    }

    static float Widen(ushort bf16) => BitConverter.Int32BitsToSingle(bf16 << 16);

    /// <summary>fp32 to bf16, rounding to nearest even; NaN stays a (quiet) NaN, as in c10::BFloat16.</summary>
    internal static ushort Round(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    readonly struct Job(ushort* weight, int outputs, int cols, float[] inputs, int count, ushort* result)
    {
        readonly ushort* _weight = weight, _result = result;
        readonly int _outputs = outputs, _cols = cols, _count = count;
        readonly float[] _inputs = inputs;

        /// <summary>
        /// Weight rows [from, to) against every input. Inputs go four at a time through <see cref="Rows2Inputs4"/> (each
        /// weight widened once for four inputs); the rest, one at a time through <see cref="Block4"/> (four weight rows
        /// share each load of the input). Both add in the same order, so an output does not depend on the batch.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            fixed (float* inputs = _inputs)
            {
                int grouped = _count / 4 * 4, r = from;
                // Four weight rows at a time stay in L1 while every input passes over them: the weights are read once.
                for (; r + Block <= to; r += Block)
                {
                    for (int i = 0; i < grouped; i += 4)
                    {
                        Rows2Inputs4(r, inputs + (long)i * _cols, _result + (long)i * _outputs);
                        Rows2Inputs4(r + 2, inputs + (long)i * _cols, _result + (long)i * _outputs);
                    }
                    for (int i = grouped; i < _count; i++) Block4(r, inputs + (long)i * _cols, _result + (long)i * _outputs);
                }
                for (; r < to; r++)
                    for (int i = 0; i < _count; i++) One(r, inputs + (long)i * _cols, _result + (long)i * _outputs);
            }
        }

        /// <summary>
        /// Two weight rows against four inputs: each widened weight serves four inputs (8 accumulators; the JIT keeps
        /// some of them on the stack, and one weight row against four inputs measured slower still: 140 against 98 ms for
        /// the output layer with 8 rows).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Rows2Inputs4(int r, float* evens, ushort* output)
        {
            long cols = _cols, half = cols / 2;
            ushort* w0 = _weight + r * cols, w1 = w0 + cols;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            var high = Vector256.Create(0xFFFF0000u);
            for (long j = 0; j < cols; j += Lane)
            {
                var p0 = Vector256.Load((uint*)(w0 + j));
                var p1 = Vector256.Load((uint*)(w1 + j));
                var e0 = (p0 << 16).AsSingle(); var o0 = (p0 & high).AsSingle();
                var e1 = (p1 << 16).AsSingle(); var o1 = (p1 & high).AsSingle();
                float* x = evens + j / 2;
                Step(x, half, e0, o0, e1, o1, ref a0, ref b0);
                Step(x + cols, half, e0, o0, e1, o1, ref a1, ref b1);
                Step(x + 2 * cols, half, e0, o0, e1, o1, ref a2, ref b2);
                Step(x + 3 * cols, half, e0, o0, e1, o1, ref a3, ref b3);
            }
            long stride = _outputs;
            output[r] = Round(Vector256.Sum(a0)); output[r + 1] = Round(Vector256.Sum(b0));
            output[stride + r] = Round(Vector256.Sum(a1)); output[stride + r + 1] = Round(Vector256.Sum(b1));
            output[2 * stride + r] = Round(Vector256.Sum(a2)); output[2 * stride + r + 1] = Round(Vector256.Sum(b2));
            output[3 * stride + r] = Round(Vector256.Sum(a3)); output[3 * stride + r + 1] = Round(Vector256.Sum(b3));
        }

        /// <summary>One input's even and odd halves at this column against two widened weight rows, in <see cref="Accumulate"/>'s order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Step(float* x, long half, Vector256<float> e0, Vector256<float> o0, Vector256<float> e1, Vector256<float> o1,
            ref Vector256<float> a, ref Vector256<float> b)
        {
            var e = Vector256.Load(x);
            var o = Vector256.Load(x + half);
            a = Vector256.FusedMultiplyAdd(o0, o, Vector256.FusedMultiplyAdd(e0, e, a));
            b = Vector256.FusedMultiplyAdd(o1, o, Vector256.FusedMultiplyAdd(e1, e, b));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Block4(int r, float* evens, ushort* output)
        {
            float* odds = evens + _cols / 2;
            ushort* w0 = _weight + (long)r * _cols, w1 = w0 + _cols, w2 = w1 + _cols, w3 = w2 + _cols;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < _cols; j += Lane)
            {
                var e = Vector256.Load(evens + j / 2);
                var o = Vector256.Load(odds + j / 2);
                s0 = Accumulate(Vector256.Load((uint*)(w0 + j)), e, o, s0);
                s1 = Accumulate(Vector256.Load((uint*)(w1 + j)), e, o, s1);
                s2 = Accumulate(Vector256.Load((uint*)(w2 + j)), e, o, s2);
                s3 = Accumulate(Vector256.Load((uint*)(w3 + j)), e, o, s3);
            }
            output[r] = Round(Vector256.Sum(s0));
            output[r + 1] = Round(Vector256.Sum(s1));
            output[r + 2] = Round(Vector256.Sum(s2));
            output[r + 3] = Round(Vector256.Sum(s3));
        }

        void One(int r, float* evens, ushort* output)
        {
            float* odds = evens + _cols / 2;
            ushort* w = _weight + (long)r * _cols;
            Vector256<float> s = default;
            for (int j = 0; j < _cols; j += Lane)
                s = Accumulate(Vector256.Load((uint*)(w + j)), Vector256.Load(evens + j / 2), Vector256.Load(odds + j / 2), s);
            output[r] = Round(Vector256.Sum(s));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Accumulate(Vector256<uint> pairs, Vector256<float> evens, Vector256<float> odds, Vector256<float> sum) =>
            Vector256.FusedMultiplyAdd((pairs & Vector256.Create(0xFFFF0000u)).AsSingle(), odds, Vector256.FusedMultiplyAdd((pairs << 16).AsSingle(), evens, sum));
    }
}
