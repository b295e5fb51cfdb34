using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// The attention of a decode step, one new position per sequence over the KV cache, in one call instead of libtorch's
/// eight: its bf16 matmuls of a few rows went through oneDNN, whose set-up for each new cache length took 0.3–0.4 ms a
/// call, 12 of a 1B model's 110 ms a token. It rounds where the eager path does, so only the order of additions differs:
/// scores <c>q·k</c> to bf16, times the scale to bf16, plus the fp32 mask, softmax in fp32, probabilities to bf16, their
/// sum of values to bf16.
/// </summary>
internal static unsafe class DecodeAttention
{
    const int Lane = 8;

    /// <summary>Below this many multiply-adds (batch × heads × positions × head_dim) a step's attention runs on one thread.</summary>
    const long ParallelWork = 1 << 21;

    /// <summary>
    /// Whether <see cref="Attend"/> computes this attention: one new position per sequence, bf16 on a CPU with AVX2, a head
    /// size in steps of eight, rows of keys and values contiguous, no soft-capping of the scores, nothing recording gradients.
    /// </summary>
    public static bool Applies(Tensor q, Tensor keys, Tensor values, double? softcap) =>
        Bf16MatVec.Supported && softcap is null && q.dim() == 4 && q.shape[1] == 1 && q.shape[^1] % Lane == 0
        && q.dtype == ScalarType.BFloat16 && keys.dtype == ScalarType.BFloat16 && values.dtype == ScalarType.BFloat16 && q.device_type == DeviceType.CPU && keys.device_type == DeviceType.CPU
        && !q.requires_grad && !keys.requires_grad && keys.stride(3) == 1 && values.stride(3) == 1;

    /// <summary>
    /// <paramref name="q"/> <c>[B, 1, H, d]</c> (rotated) against <paramref name="keys"/> and <paramref name="values"/>
    /// <c>[B, KV, S, d]</c> (views of the cache: rows contiguous) under the additive fp32 <paramref name="mask"/>
    /// <c>[B or 1, 1, 1, S]</c>: the heads' outputs <c>[B, 1, H, d]</c> in bf16, before the output projection.
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor keys, Tensor values, Tensor mask, double scale)
    {
        using var queries = q.contiguous();
        using var visible = mask.contiguous();
        var output = empty(q.shape, dtype: ScalarType.BFloat16, device: q.device);
        var step = new Step(queries, keys, values, visible, output, (float)scale);
        long work = q.shape[0] * q.shape[2] * step.Positions * step.HeadDim;
        int groups = checked((int)(q.shape[0] * keys.shape[1]));
        if (work < ParallelWork) for (int g = 0; g < groups; g++) step.Group(g);
        else KernelThreads.For(groups, step.Group);
        return output;
    }

    /// <summary>
    /// e^x for x ≤ 0 within an fp32 ulp or two of MathF.Exp (Cephes' expf: x = n ln 2 + r, a degree-5 polynomial in r,
    /// 2^n put in the exponent); 0 below -87.3 (where e^x leaves fp32's normal range), a masked position's -∞ included.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        var underflow = Vector256.LessThan(x, Vector256.Create(-87.33654f));
        x = Vector256.Max(x, Vector256.Create(-87.33654f));
        var n = Avx.RoundToNearestInteger(x * Vector256.Create(1.44269504088896341f));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        var y = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        return Vector256.AndNot(y * scale, underflow);
    }

    /// <summary>One step's tensors, by address and stride: each group (a sequence's kv head and its query heads) is independent.</summary>
    sealed class Step
    {
        readonly ushort* _q, _k, _v, _out;
        readonly float* _mask;
        readonly long _kvHeads, _heads, _group, _kBatch, _kHead, _kRow, _vBatch, _vHead, _vRow, _maskBatch;
        readonly float _scale;

        public Step(Tensor q, Tensor keys, Tensor values, Tensor mask, Tensor output, float scale)
        {
            _q = (ushort*)TensorMemory.Address(q);
            _k = (ushort*)TensorMemory.Start(keys);
            _v = (ushort*)TensorMemory.Start(values);
            _out = (ushort*)TensorMemory.Address(output);
            _mask = (float*)TensorMemory.Address(mask);
            _heads = q.shape[2];
            _kvHeads = keys.shape[1];
            _group = _heads / _kvHeads;
            HeadDim = (int)q.shape[3];
            Positions = (int)keys.shape[2];
            (_kBatch, _kHead, _kRow) = (keys.stride(0), keys.stride(1), keys.stride(2));
            (_vBatch, _vHead, _vRow) = (values.stride(0), values.stride(1), values.stride(2));
            _maskBatch = mask.shape[0] == 1 ? 0 : Positions;
            _scale = scale;
        }

        public int HeadDim { get; }

        public int Positions { get; }

        /// <summary>Group <paramref name="index"/> = sequence × kv heads + kv head: its query heads' scores, softmax and values.</summary>
        public void Group(int index)
        {
            long b = index / _kvHeads, kv = index % _kvHeads;
            int d = HeadDim, s = Positions, g = (int)_group;
            var pool = ArrayPool<float>.Shared;
            var scratch = pool.Rent(g * d + g * s + g * d + Lane * d);
            try
            {
                fixed (float* buffer = scratch)
                {
                    float* queries = buffer, scores = buffer + g * d, sums = scores + g * s, block = sums + g * d;
                    long firstHead = kv * _group;
                    for (int h = 0; h < g; h++)
                        for (int c = 0; c < d; c += Lane) Bf16.Widen(_q + (b * _heads + firstHead + h) * d + c).Store(queries + h * d + c);
                    Scores(_k + b * _kBatch + kv * _kHead, queries, _mask + b * _maskBatch, scores, block);
                    for (int h = 0; h < g; h++) Softmax(scores + h * s, s);
                    Values(_v + b * _vBatch + kv * _vHead, scores, sums);
                    var into = _out + (b * _heads + firstHead) * d;
                    for (int i = 0; i < g * d; i += Lane) Bf16.RoundToFloat(Vector256.Load(sums + i)).Store(sums + i);
                    for (int i = 0; i < g * d; i++) into[i] = (ushort)(BitConverter.SingleToUInt32Bits(sums[i]) >> 16);
                }
            }
            finally
            {
                pool.Return(scratch);
            }
        }

        /// <summary>
        /// Each query head's score of each position, <c>bf16(bf16(q·k) · scale) + mask</c> as the eager path rounds them,
        /// eight positions at a time: their keys widened once into <paramref name="block"/> for every query head, the
        /// eight sums of a head reduced into one vector together (summing each alone took most of the step's time).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Scores(ushort* keys, float* queries, float* mask, float* scores, float* block)
        {
            int d = HeadDim, s = Positions, g = (int)_group;
            var scale = Vector256.Create(_scale);
            int t = 0;
            for (; t + Lane <= s; t += Lane)
            {
                for (int r = 0; r < Lane; r++)
                    for (int c = 0; c < d; c += Lane) Bf16.Widen(keys + (t + r) * _kRow + c).Store(block + r * d + c);
                for (int h = 0; h < g; h++)
                {
                    float* q = queries + h * d;
                    Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (int c = 0; c < d; c += Lane)
                    {
                        var x = Vector256.Load(q + c);
                        a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + c), a0);
                        a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + d + c), a1);
                        a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 2 * d + c), a2);
                        a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 3 * d + c), a3);
                        a4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 4 * d + c), a4);
                        a5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 5 * d + c), a5);
                        a6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 6 * d + c), a6);
                        a7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(block + 7 * d + c), a7);
                    }
                    var dots = Sums(a0, a1, a2, a3, a4, a5, a6, a7);
                    (Bf16.RoundToFloat(Bf16.RoundToFloat(dots) * scale) + Vector256.Load(mask + t)).Store(scores + h * s + t);
                }
            }
            for (; t < s; t++)
                for (int h = 0; h < g; h++)
                {
                    Vector256<float> a = default;
                    for (int c = 0; c < d; c += Lane) a = Vector256.FusedMultiplyAdd(Vector256.Load(queries + h * d + c), Bf16.Widen(keys + t * _kRow + c), a);
                    scores[h * s + t] = Bf16.ToFloat(Bf16.Round(Bf16.ToFloat(Bf16.Round(Vector256.Sum(a))) * _scale)) + mask[t];
                }
        }

        /// <summary>The sums of eight vectors' lanes, in their order: lane r of the result is the sum of <paramref name="a0"/> + r.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Sums(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
            Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
        {
            // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]: twice, and each 128-bit half holds
            // four vectors' partial sums; the halves of the two results added crosswise give all eight.
            var low = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            var high = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
            return Avx.Permute2x128(low, high, 0x20) + Avx.Permute2x128(low, high, 0x31);
        }

        /// <summary>
        /// Softmax in place, as libtorch's (exp of the difference to the maximum, times the reciprocal of their sum), each
        /// probability then rounded to bf16; the exponentials eight at a time (<see cref="Exp"/>): MathF.Exp, one call
        /// each, took a quarter of a batch-8 step's attention (1.5 of 6.2 ms over 16 layers, AMD EPYC Zen 5).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void Softmax(float* x, int n)
        {
            float max = float.MinValue;
            for (int i = 0; i < n; i++) max = MathF.Max(max, x[i]);
            var top = Vector256.Create(max);
            var sums = Vector256<float>.Zero;
            int j = 0;
            for (; j + Lane <= n; j += Lane)
            {
                var e = Exp(Vector256.Load(x + j) - top);
                e.Store(x + j);
                sums += e;
            }
            float sum = Vector256.Sum(sums);
            for (; j < n; j++) sum += x[j] = MathF.Exp(x[j] - max);
            var inverse = Vector256.Create(1 / sum);
            j = 0;
            for (; j + Lane <= n; j += Lane) Bf16.RoundToFloat(Vector256.Load(x + j) * inverse).Store(x + j);
            for (; j < n; j++) x[j] = Bf16.ToFloat(Bf16.Round(x[j] * inverse[0]));
        }

        /// <summary>
        /// Each query head's probabilities times the values, summed in fp32 (rounded by the caller): 32 columns at a time,
        /// whose sums stay in registers over every position (sums kept in memory took twice as long), two heads at a time,
        /// which widen each value row once: a batch-8 step's attention over 16 layers 5.3 ms against 6.2 with one head at a
        /// time (AMD EPYC Zen 5). Each sum adds its positions in order, as before.
        /// </summary>
        void Values(ushort* values, float* probabilities, float* sums)
        {
            int d = HeadDim, s = Positions, g = (int)_group;
            int h = 0;
            for (; h + 2 <= g; h += 2) Values<Two>(values, probabilities + h * s, sums + h * d);
            for (; h < g; h++) Values<One>(values, probabilities + h * s, sums + h * d);
        }

        /// <summary>
        /// <typeparamref name="THeads"/>'s count (one or two) of query heads' sums of values, their probabilities and sums
        /// one after the other from <paramref name="p"/> and <paramref name="into"/>: each value row widened once for both,
        /// eight sums in registers (the JIT drops the second head's code from the loop for one).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Values<THeads>(ushort* values, float* p, float* into) where THeads : struct, ICount
        {
            bool two = THeads.Count == 2;
            int d = HeadDim, s = Positions;
            float* p1 = p + s, into1 = into + d;
            int c = 0;
            for (; c + 4 * Lane <= d; c += 4 * Lane)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
                ushort* value = values + c;
                for (int t = 0; t < s; t++, value += _vRow)
                {
                    var v0 = Bf16.Widen(value);
                    var v1 = Bf16.Widen(value + Lane);
                    var v2 = Bf16.Widen(value + 2 * Lane);
                    var v3 = Bf16.Widen(value + 3 * Lane);
                    var wa = Vector256.Create(p[t]);
                    a0 = Vector256.FusedMultiplyAdd(wa, v0, a0);
                    a1 = Vector256.FusedMultiplyAdd(wa, v1, a1);
                    a2 = Vector256.FusedMultiplyAdd(wa, v2, a2);
                    a3 = Vector256.FusedMultiplyAdd(wa, v3, a3);
                    if (!two) continue;
                    var wb = Vector256.Create(p1[t]);
                    b0 = Vector256.FusedMultiplyAdd(wb, v0, b0);
                    b1 = Vector256.FusedMultiplyAdd(wb, v1, b1);
                    b2 = Vector256.FusedMultiplyAdd(wb, v2, b2);
                    b3 = Vector256.FusedMultiplyAdd(wb, v3, b3);
                }
                a0.Store(into + c); a1.Store(into + c + Lane); a2.Store(into + c + 2 * Lane); a3.Store(into + c + 3 * Lane);
                if (!two) continue;
                b0.Store(into1 + c); b1.Store(into1 + c + Lane); b2.Store(into1 + c + 2 * Lane); b3.Store(into1 + c + 3 * Lane);
            }
            for (; c < d; c += Lane)
            {
                Vector256<float> a = default, b = default;
                ushort* value = values + c;
                for (int t = 0; t < s; t++, value += _vRow)
                {
                    var v = Bf16.Widen(value);
                    a = Vector256.FusedMultiplyAdd(Vector256.Create(p[t]), v, a);
                    if (two) b = Vector256.FusedMultiplyAdd(Vector256.Create(p1[t]), v, b);
                }
                a.Store(into + c);
                if (two) b.Store(into1 + c);
            }
        }
    }
}
