using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// fp32 rows times an fp32 weight matrix <c>[out, in]</c> (every linear layer of a model loaded in float32) in native
/// AVX-512 loops (<c>f32gemm.c</c>, mapped by <see cref="NativeCode"/>), on AMD CPUs. libtorch's fp32 products are MKL's,
/// whose code for other vendors' CPUs runs at about half the FMA units' rate: on an AMD EPYC Zen 5 with two threads, 128
/// rows times Llama-3.2-1B's weights took MKL 95-118 GF/s and these loops 160-280 (OpenBLAS: 145-186), eight rows of the
/// output layer 30 against 97, one row as fast (both read the weights at memory speed). On Intel CPUs MKL keeps them.
/// Each output is the fused multiply-adds of its row and weight row in column order, rounded once per addition in fp32
/// as libtorch's are; only the order differs from MKL's blocked sums.
/// </summary>
internal static unsafe class F32Gemm
{
    /// <summary>Input rows packed at a time (<c>width</c> in <c>f32gemm.c</c>): four vectors of 16.</summary>
    const int Tile = 64;
    /// <summary>Weight rows a step of the loops (<c>ROWS</c> in <c>f32gemm.c</c>).</summary>
    const int Group = 6;
    /// <summary>
    /// Input rows one pass over the weights takes: two tiles, packed into up to 4 MB (8,192 columns) that stay with the
    /// caller's thread for the next product; each group of weight rows is read from memory once for both tiles.
    /// </summary>
    const int ChunkRows = 2 * Tile;
    /// <summary>Groups of weight rows a thread takes at a time, at most: about 64 pieces of an output layer.</summary>
    const int PieceGroups = 32;

    /// <summary>The loops: null without AVX-512, off Linux x86-64 or where the code cannot be mapped.</summary>
    static readonly delegate* unmanaged<F32GemmArgs*, void> _gemm =
        Avx512F.IsSupported && TensorMemory.Available ? (delegate* unmanaged<F32GemmArgs*, void>)NativeCode.Map(F32GemmCode.Bytes) : null;

    /// <summary>Whether the loops run in this process (AVX-512, Linux x86-64).</summary>
    internal static bool Available => _gemm != null;

    /// <summary>Whether the fp32 products are this kernel's in this process (<see cref="TakesFor"/>).</summary>
    public static bool Takes { get; } = TakesFor(Environment.GetEnvironmentVariable("NOTEBOOKLENS_MATVEC"), Available, Cpu.IsAmd);

    /// <summary>
    /// <c>NOTEBOOKLENS_MATVEC=torch</c> (libtorch for every product): no; <c>=ours</c>: wherever the loops run; by default
    /// on AMD CPUs, where they were faster than MKL for every row count measured (1 to 512).
    /// </summary>
    internal static bool TakesFor(string? setting, bool available, bool amd) => available && setting switch
    {
        "torch" => false,
        "ours" => true,
        _ => amd,
    };

    /// <summary>What the engine says of fp32 products (<see cref="LensModel.Engine"/>).</summary>
    internal static string Description => Takes ? "fp32 products: NotebookLens's kernel (AVX-512)" : "fp32 products: libtorch's";

    /// <summary>Whether <see cref="Multiply"/> handles <c>x · weightᵀ</c>: fp32 rows against a contiguous fp32 CPU matrix, where it <see cref="Takes"/> them.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Takes && !x.requires_grad && !weight.requires_grad && x.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU && weight.dim() == 2 && x.dim() >= 1
        && x.shape[^1] == weight.shape[1] && x.numel() > 0 && weight.numel() > 0 && weight.is_contiguous();

    /// <summary>The pinned buffer of a thread's packed inputs (<see cref="ChunkRows"/> x columns floats, 64-byte aligned).</summary>
    [ThreadStatic] static float[]? _packed;

    /// <summary><c>x · weightᵀ</c> with <c>x</c>'s leading shape and <c>out</c> features, in fp32 (<see cref="Applies"/> holds).</summary>
    /// <param name="kept">The output outlives the forward pass (the logits): in <see cref="HugePages"/> from <see cref="HugePages.LogitsMinBytes"/>.</param>
    public static Tensor Multiply(Tensor x, Tensor weight, bool kept = false)
    {
        if (!Available) throw new PlatformNotSupportedException("NotebookLens's fp32 products need AVX-512, on Linux x86-64.");
        long cols = weight.shape[1], outputs = weight.shape[0], inputs = x.numel() / cols;
        var result = HugePages.Output([.. x.shape[..^1], outputs], ScalarType.Float32, x.device, kept, HugePages.LogitsMinBytes);
        using var rows = x.contiguous();
        fixed (float* start = PinnedBuffer.AtLeast(ref _packed, ChunkRows * cols))
        {
            var product = new Product(
                (float*)TensorMemory.Address(rows), PinnedBuffer.Aligned(start), (float*)TensorMemory.Address(weight),
                (float*)TensorMemory.Address(result), cols, outputs);
            for (long first = 0; first < inputs; first += ChunkRows)
                product.Run(first, (int)Math.Min(ChunkRows, inputs - first));
        }
        return result;
    }

    /// <summary>One call's pointers; <see cref="Run"/> takes a chunk of rows.</summary>
    sealed class Product(float* inputs, float* packed, float* weights, float* outputs, long cols, long outRows)
    {
        readonly long _groups = (outRows + Group - 1) / Group;
        long _first;
        int _rows, _tiles;

        /// <summary>Packs rows [first, first + count) a tile per thread, then multiplies them by every weight row, a piece of groups per thread at a time.</summary>
        public void Run(long first, int count)
        {
            (_first, _rows, _tiles) = (first, count, (count + Tile - 1) / Tile);
            KernelThreads.For(_tiles, Pack);
            int pieces = (int)Math.Min(_groups, Math.Max(16, _groups / PieceGroups));
            KernelThreads.For(pieces, piece =>
            {
                for (long g = _groups * piece / pieces, end = _groups * (piece + 1) / pieces; g < end; g++)
                    for (int t = 0; t < _tiles; t++) Multiply(t, g);
            });
        }

        int TileRows(int t) => Math.Min(Tile, _rows - t * Tile);

        /// <summary>The tile's rows rounded up to whole vectors of 16: the loops' width.</summary>
        int Width(int t) => (TileRows(t) + 15) / 16 * 16;

        void Pack(int t)
        {
            var args = new F32GemmArgs
            {
                Op = F32GemmArgs.Pack, X = inputs + (_first + t * Tile) * cols, Xp = packed + t * Tile * cols, Width = Width(t),
                K = cols, Rows = TileRows(t),
            };
            _gemm(&args);
        }

        void Multiply(int t, long group)
        {
            var args = new F32GemmArgs
            {
                Op = F32GemmArgs.Multiply, Xp = packed + t * Tile * cols, Width = Width(t), K = cols, Rows = TileRows(t),
                W = weights + group * Group * cols, WRows = Math.Min(Group, outRows - group * Group),
                C = outputs + (_first + t * Tile) * outRows + group * Group, Ldc = outRows,
            };
            _gemm(&args);
        }
    }
}

/// <summary>The arguments of <c>f32gemm</c> (<see cref="F32Gemm"/>), as <c>gemm_args</c> in <c>f32gemm.c</c> lays them out.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct F32GemmArgs
{
    public const long Pack = 1, Multiply = 2;
    public long Op;
    public float* X;
    public float* Xp;
    public long Width, K, Rows;
    public float* W;
    public long WRows;
    public float* C;
    public long Ldc;
}
