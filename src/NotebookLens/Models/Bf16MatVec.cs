using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// One bf16 row times a bf16 weight matrix <c>[out, in]</c> — every linear layer of a decode step. libtorch's
/// 1-row bf16 matmul streams the weights at a fraction of the machine's read bandwidth, and reading the weights is
/// the whole cost of a decoded token (bench: <c>decode</c>); this kernel reads them in place at memory speed.
/// Like libtorch it widens to fp32, accumulates in fp32 and rounds each output once to bf16 (nearest even);
/// only the order of the additions differs.
/// </summary>
internal static unsafe class Bf16MatVec
{
    /// <summary>Rows per inner step: four weight rows share each load of the input.</summary>
    const int RowBlock = 4;
    /// <summary>bf16 elements per 256-bit load (pairs: the even one in the low half of each 32-bit lane).</summary>
    const int Lane = 16;

    /// <summary>Whether the kernel runs on this machine (AVX2 with FMA, and the tensor memory export); otherwise libtorch does the work.</summary>
    public static bool Supported { get; } = Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported && TensorMemory.Available;

    /// <summary>Switched off for the process by <c>NOTEBOOKLENS_MATVEC=torch</c>, to compare with libtorch (the benchmark does).</summary>
    public static bool Enabled { get; } = Supported && Environment.GetEnvironmentVariable("NOTEBOOKLENS_MATVEC") != "torch";

    [ThreadStatic] static float[]? _input;

    /// <summary>Whether <see cref="Multiply"/> handles <c>x · weightᵀ</c>: one bf16 row against a contiguous bf16 CPU matrix.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Enabled && !x.requires_grad && !weight.requires_grad && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && weight.dim() == 2 && weight.shape[1] % Lane == 0 && x.numel() == weight.shape[1] && weight.is_contiguous();

    /// <summary><c>x · weightᵀ</c> with <c>x</c>'s leading shape and <c>out</c> features, in bf16.</summary>
    public static Tensor Multiply(Tensor x, Tensor weight)
    {
        int rows = checked((int)weight.shape[0]), cols = checked((int)weight.shape[1]);
        var input = _input is { } buffer && buffer.Length >= cols ? buffer : _input = GC.AllocateUninitializedArray<float>(cols, pinned: true);
        using (var row = x.contiguous()) SplitPairs((ushort*)TensorMemory.Address(row), cols, input);

        long[] shape = [.. x.shape[..^1], rows];
        var result = empty(shape, dtype: ScalarType.BFloat16, device: x.device);
        var job = new Job((ushort*)TensorMemory.Address(weight), cols, input, (ushort*)TensorMemory.Address(result));
        int parts = Math.Max(1, Math.Min(get_num_threads(), rows / RowBlock));
        if (parts == 1) job.Rows(0, rows);
        else Parallel.For(0, parts, p => job.Rows(Boundary(rows, p, parts), Boundary(rows, p + 1, parts)));
        return result;
    }

    /// <summary>Part <paramref name="p"/>'s first row: equal shares, each starting on a whole row block.</summary>
    static int Boundary(int rows, int p, int parts) => p == parts ? rows : (int)((long)rows * p / parts) / RowBlock * RowBlock;

    /// <summary>
    /// The input as fp32, evens in the first half and odds in the second: a 32-bit load of the weights holds an
    /// (even, odd) pair, which shifting and masking turn into two fp32 vectors without shuffles.
    /// </summary>
    static void SplitPairs(ushort* x, int cols, float[] into)
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

    readonly struct Job(ushort* weight, int cols, float[] input, ushort* output)
    {
        readonly ushort* _weight = weight, _output = output;
        readonly int _cols = cols;
        readonly float[] _input = input;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Rows(int from, int to)
        {
            fixed (float* evens = _input)
            {
                float* odds = evens + _cols / 2;
                var high = Vector256.Create(0xFFFF0000u);
                int r = from;
                for (; r + RowBlock <= to; r += RowBlock)
                {
                    ushort* w0 = _weight + (long)r * _cols, w1 = w0 + _cols, w2 = w1 + _cols, w3 = w2 + _cols;
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int j = 0; j < _cols; j += Lane)
                    {
                        var e = Vector256.Load(evens + j / 2);
                        var o = Vector256.Load(odds + j / 2);
                        s0 = Accumulate(Vector256.Load((uint*)(w0 + j)), e, o, high, s0);
                        s1 = Accumulate(Vector256.Load((uint*)(w1 + j)), e, o, high, s1);
                        s2 = Accumulate(Vector256.Load((uint*)(w2 + j)), e, o, high, s2);
                        s3 = Accumulate(Vector256.Load((uint*)(w3 + j)), e, o, high, s3);
                    }
                    _output[r] = Round(Vector256.Sum(s0));
                    _output[r + 1] = Round(Vector256.Sum(s1));
                    _output[r + 2] = Round(Vector256.Sum(s2));
                    _output[r + 3] = Round(Vector256.Sum(s3));
                }
                for (; r < to; r++)
                {
                    ushort* w = _weight + (long)r * _cols;
                    Vector256<float> s = default;
                    for (int j = 0; j < _cols; j += Lane)
                        s = Accumulate(Vector256.Load((uint*)(w + j)), Vector256.Load(evens + j / 2), Vector256.Load(odds + j / 2), high, s);
                    _output[r] = Round(Vector256.Sum(s));
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Accumulate(Vector256<uint> pairs, Vector256<float> evens, Vector256<float> odds, Vector256<uint> high, Vector256<float> sum) =>
            Vector256.FusedMultiplyAdd((pairs & high).AsSingle(), odds, Vector256.FusedMultiplyAdd((pairs << 16).AsSingle(), evens, sum));
    }
}
