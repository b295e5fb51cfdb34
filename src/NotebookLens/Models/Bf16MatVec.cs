using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// bf16 rows times a bf16 weight matrix <c>[out, in]</c>: the linear layers of a decode step (one row per sequence) and
/// of a prefill (one per token). libtorch's bf16 product on a CPU without bf16 instructions computes each output as a
/// separate dot product, reading the weights once per row: eight rows take almost eight times as long as one (the
/// 525 MB output layer: 223 against 35 ms on an AMD EPYC with AVX2), and a 128-token prefill of a 1B model 16 s. This
/// kernel reads each pair of weight rows once for up to <see cref="Chunk"/> rows and widens each weight once for four
/// of them (eight with AVX-512's 32 registers, in column tiles that keep the inputs in L1: 8-row products of a decode
/// batch 1.2-1.3x faster than oneDNN's on an AMD EPYC Zen 5 with bf16 dot products, on a par on Zen 4); a single row, with AVX-512, streams the
/// weights one row at a time as fast as a plain read of them. Where the CPU has AVX512_BF16, the loops for several rows
/// take its dot products in native code (<see cref="Dot"/>): eight rows of the 2048 x 8192 down projection in 1.0 ms
/// against 2.0 with the managed loops and libtorch's on an AMD EPYC Zen 4. Like libtorch it widens to fp32 (the dot
/// products' bf16 products are exact in fp32), accumulates in fp32 and rounds each output once to bf16 (nearest even);
/// only the order of the additions differs (and the dot products count fp32 values below 1.2e-38 as zero). Which products it takes depends on the CPU (<see cref="ProductsFor"/>).
/// </summary>
internal static unsafe class Bf16MatVec
{
    /// <summary>Input rows one pass over the weights takes: their fp32 copies (up to 2 MB for 8,192 columns) stay in L2.</summary>
    public const int Chunk = 64;
    /// <summary>Weight rows per inner step (two), doubled: a piece of a product (<see cref="Pieces"/>) starts on a multiple of it.</summary>
    const int Block = 4;
    /// <summary>Columns per step: eight bf16 weights widened into one 256-bit fp32 vector.</summary>
    const int Lane = 8;
    /// <summary>Columns per step of the 512-bit path: sixteen.</summary>
    const int WideLane = 16;
    /// <summary>
    /// Columns one 512-bit load of bf16 weights holds: 32, as 16 pairs. Widening them whole (<see cref="Bf16.Evens"/>,
    /// <see cref="Bf16.Odds"/>: a shift and a mask, against inputs laid out to match) takes half the instructions of
    /// widening 16 at a time, and a product of one row then streams its weights as fast as a plain read of them.
    /// </summary>
    const int PairLane = 32;
    /// <summary>
    /// The least weight bytes a thread takes at a time (<see cref="Pieces"/>): with 512 KB instead of 256, eight rows of
    /// a layer's MLP took 4-7 % less time (three alternating rounds, AMD EPYC Zen 5 VM; one row: no change); in the
    /// loops' own harness, pieces of 32 rows of the 2048 x 8192 down projection streamed at 36 GB/s, of 16 rows at 29.
    /// </summary>
    const int PieceBytes = 512 << 10;

    /// <summary>Whether the products take the 512-bit loops (AVX-512 with its 16-bit permutations), for columns in steps of <see cref="PairLane"/>.</summary>
    internal static bool Wide { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>
    /// The loops for two inputs or more with AVX512_BF16's dot products (<c>bf16dot.c</c>, mapped by
    /// <see cref="NativeCode"/>): null without the instructions, or where the code cannot be mapped. On an AMD EPYC Zen 4
    /// the FMAs of the managed loops bounded eight rows of a decode batch; these take half the instructions and read
    /// the inputs as they are, in bf16.
    /// </summary>
    static readonly delegate* unmanaged<Bf16DotArgs*, void> _dot =
        Wide && Avx512BW.IsSupported && CpuHasAvx512Bf16 ? (delegate* unmanaged<Bf16DotArgs*, void>)NativeCode.Map(Bf16DotCode.Bytes) : null;

    /// <summary>Whether the loops with bf16 dot products run here (<see cref="_dot"/>).</summary>
    internal static bool Dot => _dot != null;

    /// <summary>The loops a product takes by default: the fastest this CPU runs.</summary>
    internal static MatVecLoops Best => Dot ? MatVecLoops.Bf16Dot : Wide ? MatVecLoops.Avx512 : MatVecLoops.Avx2;

    /// <summary>Whether the kernel runs on this machine (AVX2 with FMA, and the tensor memory export); otherwise libtorch does the work.</summary>
    public static bool Supported { get; } = Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported && TensorMemory.Available;

    /// <summary>
    /// Whether the CPU has bf16 dot-product instructions (AVX512_BF16: CPUID leaf 7, sub-leaf 1, EAX bit 5; or AMX-BF16:
    /// leaf 7, EDX bit 22). libtorch's bf16 products (oneDNN) use them: on an AMD EPYC with AVX512_BF16 its prefill GEMM
    /// ran at 416 GF/s on two threads, this kernel at 48, and eight rows of the 525 MB output layer took 32 ms against 115.
    /// </summary>
    public static bool CpuHasBf16Dot { get; } = CpuHasAvx512Bf16 || (X86Base.IsSupported && (X86Base.CpuId(7, 0).Edx & (1 << 22)) != 0);

    /// <summary>Whether the CPU has AVX512_BF16 (CPUID leaf 7, sub-leaf 1, EAX bit 5), whose <c>vdpbf16ps</c> <see cref="_dot"/> takes.</summary>
    static bool CpuHasAvx512Bf16 => X86Base.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>Which products the kernel takes in this process (<see cref="ProductsFor"/>): <c>NOTEBOOKLENS_MATVEC</c> and what the CPU has.</summary>
    public static KernelProducts Takes { get; } = ProductsFor(Environment.GetEnvironmentVariable("NOTEBOOKLENS_MATVEC"), Supported, Wide, CpuHasBf16Dot, Dot);

    /// <summary>
    /// <c>NOTEBOOKLENS_MATVEC=torch</c>: none; <c>=ours</c>: all (both to compare, as the benchmark does). By default, one
    /// row where the CPU has AVX-512 (the 525 MB output layer in 16-17 ms, as fast as a plain read of it, where libtorch's
    /// one-row product took 25 ms; with AVX2 only libtorch's streams faster: bench decode 261 against 396 ms a token), and
    /// two rows or more unless the CPU has bf16 dot products (above), which libtorch's products use; there, with AVX-512,
    /// the kernel keeps the products of a decode batch (up to <see cref="DecodeBatch"/> rows), where oneDNN repacks the
    /// weights on every call: with the column-tiled loops, a decode step of 8 sequences took 100 ms against libtorch's 133
    /// (Llama-3.2-1B shapes, AMD EPYC Zen 5; `bench decode`), and the refusal experiment's stages, whose passes include
    /// products of a few rows, ran as fast as with libtorch's (`bench refusal`: scoring 11.5-14.1 against 12.7 s), while
    /// a 128-token prefill runs at about twice the kernel's speed in libtorch. With its own loops for bf16 dot products
    /// (<paramref name="dot"/>), the kernel keeps up to <see cref="DotRows"/> rows: on an AMD EPYC Zen 4, 16 rows of
    /// Llama-3.2-1B's shapes took 0.6-0.85x libtorch's time except the 2048 x 2048 ones (1.15x), 32 rows 0.95-1.4x.
    /// </summary>
    internal static KernelProducts ProductsFor(string? setting, bool supported, bool wide, bool cpuHasBf16Dot, bool dot) => !supported ? default : setting switch
    {
        "torch" => default,
        "ours" => new(OneRow: true, ManyRowsUpTo: int.MaxValue),
        _ => new(OneRow: wide, ManyRowsUpTo: !cpuHasBf16Dot ? int.MaxValue : dot ? DotRows : wide ? DecodeBatch : 0),
    };

    /// <summary>Which bf16 products the kernel takes in this process and with which loops, in words (<c>info --json</c>'s <c>engine</c>).</summary>
    internal static string Description => Describe(Supported, Takes, Best);

    /// <summary>What <see cref="Description"/> says for a kernel that runs or not, takes <paramref name="takes"/> and runs <paramref name="loops"/>.</summary>
    internal static string Describe(bool supported, KernelProducts takes, MatVecLoops loops)
    {
        if (!supported) return "bf16 products: libtorch's (NotebookLens's kernel needs AVX2 with FMA)";
        string kernel = $"NotebookLens's kernel ({loops switch { MatVecLoops.Bf16Dot => "AVX512_BF16 dot products", MatVecLoops.Avx512 => "AVX-512", _ => "AVX2" }})";
        string one = takes.OneRow ? $"NotebookLens's kernel ({(loops == MatVecLoops.Avx2 ? "AVX2" : "AVX-512")})" : "libtorch's";
        string many = takes.ManyRowsUpTo switch
        {
            0 => "2 rows or more libtorch's",
            int.MaxValue => $"2 rows or more {kernel}",
            var n => $"2 to {n} rows {kernel}, more libtorch's",
        };
        return $"bf16 products: 1 row {one}; {many}";
    }

    /// <summary>Rows of a decode batch the managed loops keep where libtorch has bf16 dot products (<see cref="ProductsFor"/>).</summary>
    internal const int DecodeBatch = 8;

    /// <summary>Rows the kernel keeps with its own bf16 dot products (<see cref="ProductsFor"/>): a decode batch of up to 16, a prefill of up to 16 tokens.</summary>
    internal const int DotRows = 16;

    /// <summary>Elements ahead of <see cref="Job.Row1Input1Wide"/>'s loads that it asks for (prefetchnta): 2 KB.</summary>
    const int NonTemporalAhead = 1024;

    [ThreadStatic] static float[]? _inputs;
    /// <summary>The accumulators of <see cref="Job.GroupWide{TGroup}"/> and <see cref="Job.Dots"/> between column tiles (two vectors per input for each pair of weight rows).</summary>
    [ThreadStatic] static float[]? _sums;
    /// <summary>Columns of a tile of <see cref="Job.GroupWide{TGroup}"/>: eight fp32 inputs' share (32 KB) stays in a 48 KB L1 cache.</summary>
    const int Tile = 1024;

    /// <summary>
    /// Columns of a tile of <see cref="Job.Dots"/> on this CPU (<see cref="DotTileFor"/>): 2,048 with a 48 KB L1 data
    /// cache, where eight rows of the output layer streamed from memory 4-7 % faster than in tiles of 1,024, and of the
    /// 2048 x 8192 down projection 14 % faster than in tiles of 1,024 and 18 % than of 4,096 (AMD EPYC Zen 5 VM).
    /// </summary>
    internal static int DotTile { get; } = DotTileFor(Cpu.L1DataBytes);

    /// <summary>
    /// The most columns, a power of two from 256, whose share of eight bf16 inputs takes at most two thirds of an L1
    /// data cache of <paramref name="l1Bytes"/> (the rest for the weights streaming through): 1,024 for 32 KB, 2,048 for 48 KB.
    /// </summary>
    internal static int DotTileFor(int l1Bytes)
    {
        int tile = 256;
        while (2 * tile * Eight.Count * sizeof(ushort) <= l1Bytes * 2 / 3) tile *= 2;
        return tile;
    }

    /// <summary>Whether <see cref="Multiply"/> handles <c>x · weightᵀ</c>: bf16 rows it <see cref="Takes"/> against a contiguous bf16 CPU matrix.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        !x.requires_grad && !weight.requires_grad && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && weight.dim() == 2 && weight.shape[1] % (2 * Lane) == 0 // the inner loop takes two vectors a step
        && x.shape[^1] == weight.shape[1] && x.numel() > 0 && Takes.Rows(x.numel() / weight.shape[1]) && weight.is_contiguous();

    /// <summary><c>x · weightᵀ</c> with <c>x</c>'s leading shape and <c>out</c> features, in bf16.</summary>
    /// <param name="loops">
    /// The loops to use: by default the fastest the CPU runs (<see cref="Best"/>); tests run each. The AVX-512 loops and
    /// those with bf16 dot products take columns in steps of 32; other widths take AVX2's.
    /// </param>
    /// <param name="kept">The output outlives the forward pass (the logits): in <see cref="HugePages"/> from <see cref="HugePages.LogitsMinBytes"/>.</param>
    public static Tensor Multiply(Tensor x, Tensor weight, MatVecLoops? loops = null, bool kept = false) => MultiplyEach(x, [weight], loops, kept)[0];

    /// <summary>
    /// <c>x · weightᵀ</c> for each of <paramref name="weights"/> (the same columns, e.g. a layer's q, k and v), in one
    /// parallel pass over all their rows: a decode step's small products cost one dispatch instead of three.
    /// </summary>
    public static Tensor[] MultiplyEach(Tensor x, IReadOnlyList<Tensor> weights, MatVecLoops? loops = null, bool kept = false)
    {
        if (loops == MatVecLoops.Avx512 && !Wide) throw new PlatformNotSupportedException("The AVX-512 loops need AVX-512.");
        if (loops == MatVecLoops.Bf16Dot && !Dot) throw new PlatformNotSupportedException("The loops with bf16 dot products need AVX512_BF16, on Linux x86-64.");
        int cols = checked((int)weights[0].shape[1]);
        var chosen = loops ?? Best;
        // The AVX-512 loops take the columns in pairs of 16 (below); other widths take the AVX2 loops.
        bool pairs = chosen != MatVecLoops.Avx2 && cols % PairLane == 0;
        bool dot = pairs && chosen == MatVecLoops.Bf16Dot;
        int inputs = checked((int)(x.numel() / cols));
        int stride = Stride(cols);
        var widened = PinnedBuffer.AtLeast(ref _inputs, (long)Math.Min(inputs, Chunk) * stride, (long)Chunk * stride);
        var results = weights.Select(w => HugePages.Output([.. x.shape[..^1], w.shape[0]], ScalarType.BFloat16, x.device, kept, HugePages.LogitsMinBytes)).ToArray();
        using var rows = x.contiguous();
        var source = (ushort*)TensorMemory.Address(rows);
        // A lone row with the AVX-512 loops is read as it is (Row1Input1Wide); the others are widened once for every
        // weight row, or for the loops with bf16 dot products copied as they are, a row where a widened one would
        // start (a cache line past a multiple of 4 KB: 8 rows of a 2,048-wide product took twice as long without).
        bool lone = pairs && inputs == 1;
        var pieces = new Pieces([.. weights.Select(w => checked((int)w.shape[0]))], cols, stream: lone);
        var jobs = new Job[weights.Count];
        for (int first = 0; first < inputs; first += Chunk)
        {
            int count = Math.Min(Chunk, inputs - first);
            if (!lone)
                fixed (float* start = widened)
                    for (int i = 0; i < count; i++)
                    {
                        ushort* row = source + (long)(first + i) * cols;
                        float* into = PinnedBuffer.Aligned(start) + (long)i * stride;
                        if (dot) new Span<ushort>(row, cols).CopyTo(new Span<ushort>(into, cols));
                        else WidenRow(row, cols, into, pairs);
                    }
            var family = lone ? Family.Lone : dot ? Family.Dot : pairs ? Family.Wide : Family.Avx2;
            for (int j = 0; j < jobs.Length; j++)
            {
                int outputs = checked((int)weights[j].shape[0]);
                jobs[j] = new Job(family, (ushort*)TensorMemory.Address(weights[j]), outputs, cols, widened, source, count,
                    (ushort*)TensorMemory.Address(results[j]) + (long)first * outputs);
            }
            // One piece runs here without a closure (a decode step's small products).
            if (pieces.Count == 1) pieces.Run(jobs, 0);
            else KernelThreads.For(pieces.Count, i => pieces.Run(jobs, i));
        }
        return results;
    }

    /// <summary>
    /// The weights' rows in pieces, each within one weight and starting on a whole block, which the threads take one at a
    /// time in order: a thread that starts late or is interrupted (two cores shared with libtorch's workers and the
    /// machine's other work) leaves its share to the others instead of holding up the product (with one half per thread,
    /// a decode step's products averaged 1.4 times their best time). Pieces of <see cref="PieceBytes"/>, except for one
    /// input row streamed one weight row at a time, where each piece starts a stream the hardware prefetcher has to find
    /// again: there they are as large as they can be and still share the work out, largest first, each the rows not yet
    /// given out over twice the threads, down to <see cref="PieceBytes"/> (guided scheduling). With pieces of 256 KB
    /// throughout (<see cref="PieceBytes"/> then), the 65 products of a decode step of one sequence (Llama-3.2-1B's
    /// shapes) ran at 61-64 % of a plain read of the same weights, with these at 71-75 % (1 MB throughout: 72-73 %; AMD
    /// EPYC Zen 5 VM, two threads, medians of ten alternating runs), and the step took 54-56 ms instead of 59-62. The loops for several inputs read
    /// a piece in column tiles, whose rows stay in L2 only while the piece is small: a decode step of eight sequences
    /// was no faster with guided pieces (126-132 ms against 120-130). The list lives in a buffer of the calling thread's, reused
    /// from call to call (a decode step makes 65).
    /// </summary>
    readonly struct Pieces
    {
        [ThreadStatic] static Piece[]? _buffer;
        readonly Piece[] _pieces;

        /// <param name="outputs">Each job's weight rows.</param>
        /// <param name="cols">The weights' columns (all jobs have the same).</param>
        /// <param name="stream">Whether the jobs stream one input against one weight row at a time (guided pieces).</param>
        public Pieces(int[] outputs, int cols, bool stream)
        {
            int threads = stream ? KernelThreads.Threads : 0, most = Cut(outputs, cols, threads, null);
            _pieces = _buffer is { } buffer && buffer.Length >= most ? buffer : _buffer = new Piece[most];
            Count = Cut(outputs, cols, threads, _pieces);
        }

        public int Count { get; }

        /// <summary>Runs piece <paramref name="index"/>.</summary>
        public void Run(Job[] jobs, int index)
        {
            var piece = _pieces[index];
            jobs[piece.Weight].Run(piece.From, piece.To);
        }
    }

    /// <summary>
    /// Cuts the rows of weights of <paramref name="outputs"/> rows and <paramref name="cols"/> columns into pieces
    /// (<see cref="Pieces"/>), guided for <paramref name="threads"/> threads or, with 0, of <see cref="PieceBytes"/>
    /// throughout; writes them into <paramref name="into"/> and returns their count, or without an array returns how
    /// many there can be at most (every piece of <see cref="PieceBytes"/>).
    /// </summary>
    internal static int Cut(int[] outputs, int cols, int threads, Piece[]? into)
    {
        int least = Math.Max(Block, PieceBytes / (2 * cols) / Block * Block);
        if (into is null) return outputs.Sum(rows => (rows + least - 1) / least);
        long left = outputs.Sum(rows => (long)rows);
        int count = 0;
        for (int j = 0; j < outputs.Length; j++)
            for (int from = 0; from < outputs[j];)
            {
                int rows = threads == 0 ? least : (int)Math.Max(least, left / (2 * threads) / Block * Block), to = Math.Min(outputs[j], from + rows);
                into[count++] = new Piece(j, from, to);
                left -= to - from;
                from = to;
            }
        return count;
    }

    /// <summary>Rows [<see cref="From"/>, <see cref="To"/>) of the product's weight number <see cref="Weight"/>.</summary>
    internal readonly record struct Piece(int Weight, int From, int To);

    /// <summary>
    /// One input row widened to fp32, as the weights are (<paramref name="cols"/> is a multiple of <see cref="Lane"/>);
    /// for the AVX-512 loops (<paramref name="pairs"/>), each 32 columns as their 16 even columns, then their 16 odd ones.
    /// </summary>
    static void WidenRow(ushort* x, int cols, float* into, bool pairs)
    {
        if (!pairs)
            for (int j = 0; j < cols; j += Lane) Bf16.Widen(x + j).Store(into + j);
        else
            for (int j = 0; j < cols; j += PairLane)
            {
                var both = Vector512.Load((uint*)(x + j));
                Bf16.Evens(both).Store(into + j);
                Bf16.Odds(both).Store(into + j + WideLane);
            }
    }

    /// <summary>
    /// The distance between input rows in floats: a cache line past a multiple of 4 KB, so that the rows one step
    /// reads do not all fall in the same L1 sets (4K aliasing: the 2048-wide products ran 2.5 times slower per flop
    /// than the output layer).
    /// </summary>
    static int Stride(int cols) => cols + 16;

    /// <summary>Which loops a <see cref="Job"/> runs: AVX2's, AVX-512's for one input (<see cref="Job.Row1Input1Wide"/>) or several, or those with bf16 dot products.</summary>
    enum Family { Avx2, Wide, Lone, Dot }

    /// <summary>The arguments of <c>bf16dot</c> (<see cref="_dot"/>), as <c>dot_args</c> in <c>bf16dot.c</c> lays them out.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct Bf16DotArgs
    {
        public ushort* Weight;
        public long Cols, Steps, Rows;
        public ushort* Inputs;
        public long InputStride, FirstColumn, EndColumn;
        public float* Sums;
        public long Count, Ahead;
        public ushort* Out;
        public long OutStride;
        public short* Shift;
    }

    /// <summary>
    /// For each of the 32 bf16 offsets a weight row may start at past a cache line, the permutation (vpermt2w) that puts a
    /// step's 32 columns together from the two lines they straddle, in <c>bf16dot</c> and <see cref="Job.Row1Input1Wide"/>:
    /// indices <c>offset + k</c> for k from 0 to 31.
    /// </summary>
    static readonly short[] Shifts = NewShifts();

    static short[] NewShifts()
    {
        var shifts = GC.AllocateArray<short>(32 * 32, pinned: true);
        for (int i = 0; i < shifts.Length; i++) shifts[i] = (short)(i / 32 + i % 32);
        return shifts;
    }

    /// <summary><see cref="Shifts"/>' permutation for weight rows that start at <paramref name="row"/> (pinned: the address stays).</summary>
    static short* ShiftFor(ushort* row) => (short*)Unsafe.AsPointer(ref Shifts[(int)((nint)row & 63) / 2 * 32]);

    readonly struct Job(Family family, ushort* weight, int outputs, int cols, float[] inputs, ushort* rows, int count, ushort* result)
    {
        readonly Family _family = family;
        readonly ushort* _weight = weight, _result = result;
        /// <summary>The bf16 input row <see cref="Row1Input1Wide"/> reads as it is (there is one).</summary>
        readonly ushort* _rows = rows;
        readonly int _outputs = outputs, _cols = cols, _count = count, _stride = Stride(cols);
        /// <summary>The inputs (<c>_stride</c> floats apart) widened to fp32, or copied as they are for <see cref="Dots"/>.</summary>
        readonly float[] _inputs = inputs;

        /// <summary>
        /// Weight rows [from, to) against every input. With AVX-512 (<see cref="Wide"/>): one input takes one weight
        /// row at a time (<see cref="Row1Input1Wide"/>), more inputs two weight rows against eight inputs, then four, in
        /// column tiles (<see cref="GroupWide{TGroup}"/>), the rest one input at a time (<see cref="Rows2Input1Wide"/>);
        /// with bf16 dot products, the same steps in native code (<see cref="Dots"/>). With AVX2: two
        /// weight rows against four inputs (<see cref="Rows2Inputs4"/>), the rest one at a time (<see cref="Rows2Input1"/>).
        /// Within each family the loops for several inputs add in the same order, so an output does not depend on the batch
        /// it is in; a lone input's loop adds in another (a single sequence's decode step may differ from the same
        /// step in a batch in the last bit, as libtorch's products of one and of many rows do).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            if (_family == Family.Lone)
            {
                for (int row = from; row < to; row++) Row1Input1Wide(row, _rows, _result);
                return;
            }
            if (_family == Family.Dot)
            {
                Dots(from, to);
                return;
            }
            fixed (float* buffer = _inputs)
            {
                float* inputs = PinnedBuffer.Aligned(buffer);
                int r = from;
                if (_family == Family.Wide)
                {
                    int pairsEnd = from + (to - from) / 2 * 2, grouped = 0;
                    if (pairsEnd > from)
                    {
                        for (; grouped + Eight.Count <= _count; grouped += Eight.Count)
                            GroupWide<Eight>(from, pairsEnd, inputs + (long)grouped * _stride, _result + (long)grouped * _outputs);
                        for (; grouped + Four.Count <= _count; grouped += Four.Count)
                            GroupWide<Four>(from, pairsEnd, inputs + (long)grouped * _stride, _result + (long)grouped * _outputs);
                    }
                    for (; r < to; r += 2)
                    {
                        int rows = Math.Min(2, to - r);
                        for (int i = rows == 2 ? grouped : 0; i < _count; i++) Rows2Input1Wide(r, rows, inputs + (long)i * _stride, _result + (long)i * _outputs);
                    }
                    return;
                }
                for (; r + 2 <= to; r += 2)
                {
                    int i = 0;
                    for (; i + 4 <= _count; i += 4) Rows2Inputs4(r, inputs + (long)i * _stride, _result + (long)i * _outputs);
                    for (; i < _count; i++) Rows2Input1(r, 2, inputs + (long)i * _stride, _result + (long)i * _outputs);
                }
                if (r < to)
                    for (int i = 0; i < _count; i++) Rows2Input1(r, 1, inputs + (long)i * _stride, _result + (long)i * _outputs);
            }
        }

        /// <summary>
        /// Weight rows r and r + 1 against four inputs (rows <c>_stride</c> apart), into the outputs of those inputs
        /// (rows <c>_outputs</c> apart). Eight accumulators and two widened weight vectors fit the 16 registers (the
        /// even/odd split this kernel had before needed four, and the JIT spilled accumulators at every step).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Rows2Inputs4(int r, float* inputs, ushort* output)
        {
            long stride = _stride;
            ushort* w0 = _weight + (long)r * _cols, w1 = w0 + _cols;
            float* x = inputs;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            // Two steps per iteration, pointers advanced rather than indexed: the loop's own instructions were a third of it.
            float* x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride;
            long ahead = 2L * _cols;
            for (ushort* end = w0 + _cols; w0 < end; w0 += 2 * Lane, w1 += 2 * Lane, x += 2 * Lane, x1 += 2 * Lane, x2 += 2 * Lane, x3 += 2 * Lane)
            {
                // The next two weight rows, asked for while these are summed: 15-20 % faster on weights read from memory
                // (a prefetch never faults, so past the last row it costs nothing).
                Sse.Prefetch0(w0 + ahead);
                Sse.Prefetch0(w1 + ahead);
                var v0 = Bf16.Widen(w0);
                var v1 = Bf16.Widen(w1);
                a0 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x), a0);
                b0 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x), b0);
                a1 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x1), a1);
                b1 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x1), b1);
                a2 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x2), a2);
                b2 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x2), b2);
                a3 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x3), a3);
                b3 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x3), b3);
                v0 = Bf16.Widen(w0 + Lane);
                v1 = Bf16.Widen(w1 + Lane);
                a0 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x + Lane), a0);
                b0 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x + Lane), b0);
                a1 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x1 + Lane), a1);
                b1 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x1 + Lane), b1);
                a2 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x2 + Lane), a2);
                b2 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x2 + Lane), b2);
                a3 = Vector256.FusedMultiplyAdd(v0, Vector256.Load(x3 + Lane), a3);
                b3 = Vector256.FusedMultiplyAdd(v1, Vector256.Load(x3 + Lane), b3);
            }
            long n = _outputs;
            output[r] = Bf16.Round(Vector256.Sum(a0)); output[r + 1] = Bf16.Round(Vector256.Sum(b0));
            output[n + r] = Bf16.Round(Vector256.Sum(a1)); output[n + r + 1] = Bf16.Round(Vector256.Sum(b1));
            output[2 * n + r] = Bf16.Round(Vector256.Sum(a2)); output[2 * n + r + 1] = Bf16.Round(Vector256.Sum(b2));
            output[3 * n + r] = Bf16.Round(Vector256.Sum(a3)); output[3 * n + r + 1] = Bf16.Round(Vector256.Sum(b3));
        }

        /// <summary>
        /// One weight row against one bf16 input row with 512-bit vectors, 64 columns (two loads of pairs of each) a step
        /// into four accumulators, so that no FMA waits for the one before: a decode step of one sequence. One row at a
        /// time is one sequential stream, which the hardware prefetcher follows best, and the input stays bf16 (16 KB for
        /// 8,192 columns, where its fp32 copy filled the L1 cache and every load of it competed with the weights' misses).
        /// On an AMD EPYC: the 525 MB output layer in 15-17 ms, as a plain read of the same pages (four interleaved rows
        /// with software prefetches: 23); a 2048 x 8192 down projection 0.9 ms against 1.2 with an fp32 input. The
        /// weights are read as the loops with bf16 dot products read them (bf16dot.c): whole cache lines, one ahead, each
        /// step's columns put together from two (<see cref="Shifts"/>); a decode step of one sequence of the benchmark's
        /// checkpoint (tensors 40 bytes past a line) 43-45 ms against 48-50 (medians, four alternating pairs, Zen 5 VM).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Row1Input1Wide(int r, ushort* x, ushort* output)
        {
            long cols = _cols, j = 0;
            ushort* w = _weight + r * cols;
            long past = ((nint)w & 63) / 2;
            ushort* line = w - past;
            var shift = Vector512.Load((ushort*)ShiftFor(w));
            var held = Vector512.LoadAligned(line);
            Vector512<float> a = default, b = default, c = default, d = default;
            for (; j + 2 * PairLane <= cols; j += 2 * PairLane)
            {
                // 2 KB ahead, non-temporal (prefetchnta): lines fetched so are the first to leave the caches, so the
                // weights streaming through likely evict less of what the step's small operations between products
                // use. A decode step of one sequence took 60-64 ms against 66-71 without, 62-67 at 1 or 4 KB ahead,
                // alternating in one hour (AMD EPYC Zen 5 VM).
                Sse.PrefetchNonTemporal(w + j + NonTemporalAhead);
                Sse.PrefetchNonTemporal(w + j + NonTemporalAhead + PairLane);
                // The line after the row's last columns only if some of them are in it (bf16dot.c: a page past a tensor may not be mapped).
                var n0 = Vector512.LoadAligned(line + j + PairLane);
                var n1 = j + 2 * PairLane < cols || past != 0 ? Vector512.LoadAligned(line + j + 2 * PairLane) : n0;
                var v0 = Avx512BW.PermuteVar32x16x2(held, shift, n0).AsUInt32();
                var v1 = Avx512BW.PermuteVar32x16x2(n0, shift, n1).AsUInt32();
                held = n1;
                var x0 = Vector512.Load((uint*)(x + j));
                var x1 = Vector512.Load((uint*)(x + j + PairLane));
                a = Vector512.FusedMultiplyAdd(Bf16.Evens(v0), Bf16.Evens(x0), a);
                b = Vector512.FusedMultiplyAdd(Bf16.Odds(v0), Bf16.Odds(x0), b);
                c = Vector512.FusedMultiplyAdd(Bf16.Evens(v1), Bf16.Evens(x1), c);
                d = Vector512.FusedMultiplyAdd(Bf16.Odds(v1), Bf16.Odds(x1), d);
            }
            if (j < cols)
            {
                var n0 = past != 0 ? Vector512.LoadAligned(line + j + PairLane) : held;
                var v0 = Avx512BW.PermuteVar32x16x2(held, shift, n0).AsUInt32();
                var x0 = Vector512.Load((uint*)(x + j));
                a = Vector512.FusedMultiplyAdd(Bf16.Evens(v0), Bf16.Evens(x0), a);
                b = Vector512.FusedMultiplyAdd(Bf16.Odds(v0), Bf16.Odds(x0), b);
            }
            output[r] = Bf16.Round(Vector512.Sum((a + b) + (c + d)));
        }

        /// <summary>
        /// Weight rows [from, to) (an even count) against <typeparamref name="TGroup"/>'s count of inputs (8 or 4:
        /// <see cref="Rows2InputsWide{TGroup}"/>), in column tiles of <see cref="Tile"/>: each tile runs the loop over every
        /// pair of rows, whose accumulators wait in <see cref="_sums"/> between tiles, so the additions come in the untiled
        /// order. Eight fp32 inputs of 2,048 columns are 64 KB, more than an L1 cache of 48 KB: streamed whole for each pair
        /// of rows they came from L2, and the eight-input loop ran at 160-180 GF/s on a core of an AMD EPYC (Zen 5) against
        /// 240 with them in L1; in tiles, eight rows of the 525 MB output layer took 17 ms against 26 (oneDNN's: 19-22).
        /// </summary>
        void GroupWide<TGroup>(int from, int to, float* x, ushort* output) where TGroup : struct, ICount
        {
            int group = TGroup.Count, pairs = (to - from) / 2, perPair = 2 * group * WideLane;
            fixed (float* start = Sums(pairs * perPair))
            {
                float* acc = PinnedBuffer.Aligned(start);
                for (int tile = 0; tile < _cols; tile += Tile)
                {
                    int end = Math.Min(_cols, tile + Tile);
                    for (int p = 0; p < pairs; p++) Rows2InputsWide<TGroup>(from + 2 * p, x, tile, end, acc + (long)p * perPair);
                }
                WriteSums(acc, from, pairs, group, output);
            }
        }

        /// <summary>
        /// Weight rows [from, to) against every input with bf16 dot products (<see cref="_dot"/>): <see cref="Run"/>'s
        /// steps for AVX-512, pairs of rows against eight inputs, then four, then one, in column tiles, and a last odd row
        /// against one input at a time. Every input takes the same instructions in the same order in each.
        /// </summary>
        void Dots(int from, int to)
        {
            int pairs = (to - from) / 2, i = 0;
            if (pairs > 0)
            {
                for (; i + Eight.Count <= _count; i += Eight.Count) Dot(from, pairs, 2, i, Eight.Count);
                for (; i + Four.Count <= _count; i += Four.Count) Dot(from, pairs, 2, i, Four.Count);
                for (; i < _count; i++) Dot(from, pairs, 2, i, 1);
            }
            if ((to - from) % 2 == 1)
                for (i = 0; i < _count; i++) Dot(to - 1, 1, 1, i, 1);
        }

        /// <summary><paramref name="steps"/> steps of <paramref name="rows"/> weight rows from r against <paramref name="group"/> inputs from <paramref name="first"/>.</summary>
        void Dot(int r, int steps, int rows, int first, int group)
        {
            fixed (float* start = Sums(steps * rows * group * WideLane, clear: false), inputs = _inputs)
            {
                var args = new Bf16DotArgs
                {
                    Weight = _weight + (long)r * _cols, Cols = _cols, Steps = steps, Rows = rows,
                    Inputs = (ushort*)(PinnedBuffer.Aligned(inputs) + (long)first * _stride), InputStride = 2L * _stride,
                    Sums = PinnedBuffer.Aligned(start), Count = group,
                    Ahead = 2L * _cols, // the next pair of rows at these columns (bf16dot.c)
                    OutStride = _outputs,
                    Shift = ShiftFor(_weight + (long)r * _cols),
                };
                for (int tile = 0; tile < _cols; tile += DotTile)
                {
                    (args.FirstColumn, args.EndColumn) = (tile, Math.Min(_cols, tile + DotTile));
                    // The last tile sums each vector's lanes, rounds them and writes the outputs instead of keeping the vectors.
                    args.Out = args.EndColumn == _cols ? _result + (long)first * _outputs + r : null;
                    _dot(&args);
                }
            }
        }

        /// <summary>This thread's buffer for <paramref name="floats"/> sums and an alignment's slack, cleared unless <c>bf16dot</c> starts them (from its first tile).</summary>
        static float[] Sums(int floats, bool clear = true)
        {
            var sums = PinnedBuffer.AtLeast(ref _sums, floats);
            if (clear)
                fixed (float* start = sums) new Span<float>(PinnedBuffer.Aligned(start), floats).Clear();
            return sums;
        }

        /// <summary>
        /// The outputs of <paramref name="pairs"/> pairs of weight rows from <paramref name="from"/> against
        /// <paramref name="group"/> inputs, from <see cref="GroupWide{TGroup}"/>'s sums: per pair, input i's for its row q
        /// in vector 2i + q, whose lanes are summed here.
        /// </summary>
        void WriteSums(float* sums, int from, int pairs, int group, ushort* output)
        {
            long n = _outputs;
            for (int p = 0; p < pairs; p++)
                for (int i = 0; i < group; i++)
                    for (int q = 0; q < 2; q++)
                        output[i * n + from + 2 * p + q] = Bf16.Round(Vector512.Sum(Vector512.Load(sums + (long)(2 * p * group + 2 * i + q) * WideLane)));
        }

        /// <summary>
        /// Weight rows r and r + 1 against eight or four inputs (<typeparamref name="TGroup"/>: the JIT compiles a loop for
        /// each, the other's branches folded away), columns [c0, c1), with 512-bit vectors: up to sixteen accumulators
        /// (taken from and put back in <paramref name="acc"/>: input i's for row r at 2i, for row r + 1 at 2i + 1), each
        /// widened weight serving every input and each input two rows (AVX-512 has 32 registers). Every accumulator gets
        /// one FMA of even columns then one of odd ones a step (<see cref="Rows2Input1Wide"/>'s order).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Rows2InputsWide<TGroup>(int r, float* x, int c0, int c1, float* acc) where TGroup : struct, ICount
        {
            bool eight = TGroup.Count == 8;
            long cols = _cols, s = _stride, ahead = 4 * cols;
            ushort* w0 = _weight + r * cols, w1 = w0 + cols;
            Vector512<float> a0 = Vector512.Load(acc), b0 = Vector512.Load(acc + 16), a1 = Vector512.Load(acc + 32), b1 = Vector512.Load(acc + 48);
            Vector512<float> a2 = Vector512.Load(acc + 64), b2 = Vector512.Load(acc + 80), a3 = Vector512.Load(acc + 96), b3 = Vector512.Load(acc + 112);
            Vector512<float> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
            if (eight)
            {
                (a4, b4, a5, b5) = (Vector512.Load(acc + 128), Vector512.Load(acc + 144), Vector512.Load(acc + 160), Vector512.Load(acc + 176));
                (a6, b6, a7, b7) = (Vector512.Load(acc + 192), Vector512.Load(acc + 208), Vector512.Load(acc + 224), Vector512.Load(acc + 240));
            }
            for (long j = c0; j < c1; j += PairLane)
            {
                // The pair of rows after the next at these columns, asked for while these are summed (the next pair: 5-15 % slower),
                // into L2 (prefetcht1): into L1, eight rows of the output layer took 5-10 % longer on an AMD EPYC Zen 4.
                Sse.Prefetch1(w0 + j + ahead);
                Sse.Prefetch1(w1 + j + ahead);
                var pair0 = Vector512.Load((uint*)(w0 + j));
                var pair1 = Vector512.Load((uint*)(w1 + j));
                var e0 = Bf16.Evens(pair0); var o0 = Bf16.Odds(pair0);
                var e1 = Bf16.Evens(pair1); var o1 = Bf16.Odds(pair1);
                float* xj = x + j;
                // Every accumulator's even-column FMA, then every one's odd-column FMA: with each pair of FMAs written
                // one after the other, the JIT nested them and copied each accumulator twice a step (32 vmovaps for 32 FMAs).
                Step(e0, e1, ref a0, ref b0, xj); Step(e0, e1, ref a1, ref b1, xj + s); Step(e0, e1, ref a2, ref b2, xj + 2 * s); Step(e0, e1, ref a3, ref b3, xj + 3 * s);
                if (eight)
                {
                    Step(e0, e1, ref a4, ref b4, xj + 4 * s); Step(e0, e1, ref a5, ref b5, xj + 5 * s); Step(e0, e1, ref a6, ref b6, xj + 6 * s); Step(e0, e1, ref a7, ref b7, xj + 7 * s);
                }
                xj += WideLane;
                Step(o0, o1, ref a0, ref b0, xj); Step(o0, o1, ref a1, ref b1, xj + s); Step(o0, o1, ref a2, ref b2, xj + 2 * s); Step(o0, o1, ref a3, ref b3, xj + 3 * s);
                if (eight)
                {
                    Step(o0, o1, ref a4, ref b4, xj + 4 * s); Step(o0, o1, ref a5, ref b5, xj + 5 * s); Step(o0, o1, ref a6, ref b6, xj + 6 * s); Step(o0, o1, ref a7, ref b7, xj + 7 * s);
                }

                // One input's 16 even (or odd) columns into row r's and row r + 1's accumulators.
                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                static void Step(Vector512<float> row0, Vector512<float> row1, ref Vector512<float> a, ref Vector512<float> b, float* input)
                {
                    var columns = Vector512.Load(input);
                    a = Vector512.FusedMultiplyAdd(row0, columns, a);
                    b = Vector512.FusedMultiplyAdd(row1, columns, b);
                }
            }
            a0.Store(acc); b0.Store(acc + 16); a1.Store(acc + 32); b1.Store(acc + 48);
            a2.Store(acc + 64); b2.Store(acc + 80); a3.Store(acc + 96); b3.Store(acc + 112);
            if (eight)
            {
                a4.Store(acc + 128); b4.Store(acc + 144); a5.Store(acc + 160); b5.Store(acc + 176);
                a6.Store(acc + 192); b6.Store(acc + 208); a7.Store(acc + 224); b7.Store(acc + 240);
            }
        }

        /// <summary><paramref name="rows"/> (1 or 2) weight rows from r against one input, in <see cref="Rows2InputsWide{TGroup}"/>'s order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Rows2Input1Wide(int r, int rows, float* x, ushort* output)
        {
            ushort* w0 = _weight + (long)r * _cols, w1 = rows == 2 ? w0 + _cols : w0;
            Vector512<float> a = default, b = default;
            for (int j = 0; j < _cols; j += PairLane)
            {
                var evens = Vector512.Load(x + j);
                var odds = Vector512.Load(x + j + WideLane);
                var pair0 = Vector512.Load((uint*)(w0 + j));
                var pair1 = Vector512.Load((uint*)(w1 + j));
                a = Vector512.FusedMultiplyAdd(Bf16.Odds(pair0), odds, Vector512.FusedMultiplyAdd(Bf16.Evens(pair0), evens, a));
                b = Vector512.FusedMultiplyAdd(Bf16.Odds(pair1), odds, Vector512.FusedMultiplyAdd(Bf16.Evens(pair1), evens, b));
            }
            output[r] = Bf16.Round(Vector512.Sum(a));
            if (rows == 2) output[r + 1] = Bf16.Round(Vector512.Sum(b));
        }

        /// <summary><paramref name="rows"/> (1 or 2) weight rows from r against one input, in <see cref="Rows2Inputs4"/>'s order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Rows2Input1(int r, int rows, float* input, ushort* output)
        {
            ushort* w0 = _weight + (long)r * _cols, w1 = rows == 2 ? w0 + _cols : w0;
            float* x = input;
            Vector256<float> a = default, b = default;
            for (int j = 0; j < _cols; j += Lane)
            {
                var xj = Vector256.Load(x + j);
                a = Vector256.FusedMultiplyAdd(Bf16.Widen(w0 + j), xj, a);
                b = Vector256.FusedMultiplyAdd(Bf16.Widen(w1 + j), xj, b);
            }
            output[r] = Bf16.Round(Vector256.Sum(a));
            if (rows == 2) output[r + 1] = Bf16.Round(Vector256.Sum(b));
        }
    }
}

/// <summary>
/// A count as a type argument, so that the JIT compiles one loop for each and drops what the count rules out: inputs a
/// step of <see cref="Bf16MatVec"/>'s grouped loop takes, query heads a step of <see cref="DecodeAttention"/>'s values takes.
/// </summary>
internal interface ICount
{
    static abstract int Count { get; }
}

internal readonly struct One : ICount
{
    public static int Count => 1;
}

internal readonly struct Two : ICount
{
    public static int Count => 2;
}

internal readonly struct Four : ICount
{
    public static int Count => 4;
}

internal readonly struct Eight : ICount
{
    public static int Count => 8;
}

/// <summary>Which bf16 products <see cref="Bf16MatVec"/> takes: a single row (a decode step of one sequence), and products of two rows up to <see cref="ManyRowsUpTo"/> (0: none).</summary>
internal readonly record struct KernelProducts(bool OneRow, int ManyRowsUpTo)
{
    /// <summary>Whether the kernel takes a product of <paramref name="rows"/> input rows.</summary>
    public bool Rows(long rows) => rows == 1 ? OneRow : rows <= ManyRowsUpTo;
}

/// <summary>The loops of <see cref="Bf16MatVec"/>: AVX2's, AVX-512's, or AVX-512's with bf16 dot products in native code.</summary>
internal enum MatVecLoops { Avx2, Avx512, Bf16Dot }
