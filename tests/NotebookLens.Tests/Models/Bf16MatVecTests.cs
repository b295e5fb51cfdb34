using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>The bf16 kernel of decode steps and prefills (one row per sequence or token), held to float64 products rounded by libtorch's own fp32 → bf16 conversion.</summary>
public class Bf16MatVecTests
{
    public Bf16MatVecTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(1, 1, 16)]
    [InlineData(1, 3, 48)]
    [InlineData(1, 4, 192)]
    [InlineData(1, 37, 512)]
    [InlineData(1, 5, 96)] // AVX-512: 64 columns a step, then the last 32
    [InlineData(1, 301, 2048)]
    [InlineData(2, 5, 32)]
    [InlineData(3, 37, 512)]
    [InlineData(4, 6, 64)]
    [InlineData(5, 37, 512)]
    [InlineData(8, 301, 2048)]
    [InlineData(9, 7, 96)]
    [InlineData(13, 37, 1568)] // AVX-512: eight inputs, four, then one; column tiles of 1,024 and 544
    [InlineData(13, 21, 4640)] // with bf16 dot products and a 48 KB L1 cache, column tiles of 2,048, 2,048 and 544
    [InlineData(64, 9, 256)] // one whole chunk of inputs
    [InlineData(130, 37, 512)] // two chunks and a part: a prefill
    public void Equals_the_exact_product_rounded_once_to_bf16(int inputs, int rows, int cols)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(inputs * 1_000_000 + rows * 1000 + cols));
        var weight = (randn(rows, cols, generator: generator) * 0.05).to(ScalarType.BFloat16);
        var x = (randn(inputs, 1, cols, generator: generator) * 3).to(ScalarType.BFloat16);

        // Independent: every product and sum in float64, then libtorch's fp32 → bf16 rounding.
        var exact = x.to(ScalarType.Float64).matmul(weight.to(ScalarType.Float64).t()).to(ScalarType.Float32).to(ScalarType.BFloat16);
        var torchResult = nn.functional.linear(x, weight);
        foreach (var loops in Families)
        {
            var ours = Bf16MatVec.Multiply(x, weight, loops);
            Assert.Equal(new long[] { inputs, 1, rows }, ours.shape);
            Assert.Equal(ScalarType.BFloat16, ours.dtype);
            var ulps = Bf16Ulps.Between(ours, exact);
            // Only the order of fp32 additions differs from the exact sum: a value that falls next to a bf16 rounding
            // boundary may round to the neighbour, nothing more.
            Assert.True(ulps.Max() <= 1, $"loops {loops}: max {ulps.Max()} bf16 ulps from the exact product");
            Assert.True(ulps.Count(u => u == 0) >= 0.95 * ulps.Length, $"loops {loops}: {ulps.Count(u => u != 0)} of {ulps.Length} outputs differ from the exact product");
            Assert.True(Bf16Ulps.Between(ours, torchResult).Max() <= 1, $"loops {loops}: more than one bf16 ulp from libtorch's linear");
        }
    }

    /// <summary>The kernel's loop families this CPU runs: AVX2's, AVX-512's where it has it, and those with bf16 dot products where it has them.</summary>
    static MatVecLoops[] Families => [MatVecLoops.Avx2, .. Bf16MatVec.Wide ? [MatVecLoops.Avx512] : Array.Empty<MatVecLoops>(), .. Bf16MatVec.Dot ? [MatVecLoops.Bf16Dot] : Array.Empty<MatVecLoops>()];

    [Theory]
    [InlineData(4, 8, 64)]
    [InlineData(7, 39, 256)]
    [InlineData(8, 301, 2048)]
    [InlineData(9, 301, 2048)]
    [InlineData(13, 37, 1568)]
    [InlineData(70, 39, 256)]
    public void A_row_of_a_batch_equals_the_row_in_another_batch(int inputs, int rows, int cols)
    {
        // Four (AVX2), eight or four (AVX-512, in column tiles) inputs at a time take other loops than one at a time; all
        // must add in the same order. The row is compared in a batch of two, which takes the one-at-a-time loop, and as the
        // ninth of nine, after a group (a lone row may take a faster loop).
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(inputs * 7919 + rows * 31 + cols));
        var weight = randn(rows, cols, generator: generator).to(ScalarType.BFloat16);
        var x = (randn(inputs, 1, cols, generator: generator) * 3).to(ScalarType.BFloat16);
        foreach (var loops in Families)
        {
            var batch = Bf16MatVec.Multiply(x, weight, loops);
            for (int i = 0; i < inputs; i++)
            {
                var expected = batch[i].to(ScalarType.Float32).data<float>().ToArray();
                Assert.Equal(Bf16MatVec.Multiply(cat([x[i], x[(i + 1) % inputs]]), weight, loops)[0].to(ScalarType.Float32).data<float>().ToArray(), expected);
                var ninth = cat([.. Enumerable.Range(1, 8).Select(k => x[(i + k) % inputs]), x[i]]);
                Assert.Equal(Bf16MatVec.Multiply(ninth, weight, loops)[8].to(ScalarType.Float32).data<float>().ToArray(), expected);
            }
        }
    }

    [Theory]
    [InlineData(4640)] // with a 48 KB L1 cache, column tiles of 2,048, 2,048 and 544; a lone row's last 32 columns alone
    [InlineData(4608)] // tiles of 2,048, 2,048 and 512; a lone row's columns 64 at a time to the end
    public unsafe void Weights_at_any_offset_past_a_cache_line_give_the_product_of_the_same_weights_on_one(int cols)
    {
        // A checkpoint's tensors start wherever its header ends; the AVX-512 loops for one input and those with bf16 dot
        // products read whole lines and put each step's columns together from two (bf16dot.c). Every even byte offset
        // within a line, each matrix ending as near as it can to a page nothing may read (PROT_NONE): on a line (offset
        // 0) it ends right at it, and a line read past a row's last columns would fault. Eight inputs, four, then one,
        // and one input alone; three pairs of rows and one left over.
        const int inputs = 13, rows = 7;
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)cols);
        var x = (randn(inputs, 1, cols, generator: generator) * 3).to(ScalarType.BFloat16);
        var values = (randn(rows * cols + 32, generator: generator) * 0.05).to(ScalarType.BFloat16);
        long elements = HugePages.Size / sizeof(ushort);
        var block = HugePages.Empty([elements], ScalarType.BFloat16, minBytes: 0);
        Assert.NotNull(block);
        nint guard = (nint)TensorMemory.Address(block) + (nint)HugePages.Size; // within the block's slack huge page
        Assert.Equal(0, SystemPages.Protect(guard, 4096, 0));
        try
        {
            for (int offset = 0; offset < 32; offset++)
            {
                var weight = block.narrow(0, elements - rows * cols - offset, rows * cols).view(rows, cols);
                weight.copy_(values.narrow(0, offset, rows * cols).view(rows, cols));
                Assert.Equal(offset * 2 % 64, (64 - (int)((nint)TensorMemory.Address(weight) & 63)) % 64);
                using var onALine = weight.clone();
                foreach (var loops in Families)
                    foreach (var rowsIn in new[] { x, x[..1] })
                        TensorAssert.Identical(Bf16MatVec.Multiply(rowsIn, onALine, loops), Bf16MatVec.Multiply(rowsIn, weight, loops), $"loops {loops}, {rowsIn.shape[0]} inputs, {offset * 2} bytes before a line");
            }
        }
        finally
        {
            SystemPages.Protect(guard, 4096, SystemPages.Read | SystemPages.Write);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Products_of_several_weights_in_one_pass_equal_each_alone(int inputs)
    {
        // A layer's q, k and v: pieces of each weight, a last piece of each that is not a whole block.
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(11);
        Tensor[] weights = [.. new[] { 203, 66, 3 }.Select(rows => (randn(rows, 2048, generator: generator) * 0.05).to(ScalarType.BFloat16))];
        var x = randn(inputs, 1, 2048, generator: generator).to(ScalarType.BFloat16);
        var each = Bf16MatVec.MultiplyEach(x, weights);
        Assert.Equal(weights.Length, each.Length);
        for (int i = 0; i < weights.Length; i++)
            TensorAssert.Identical(Bf16MatVec.Multiply(x, weights[i]), each[i], $"weight {i}");
    }

    [Fact]
    public void A_lone_rows_pieces_start_with_the_rows_left_over_twice_the_threads_down_to_512_KB()
    {
        // 2,048 columns: 512 KB are 128 rows. Worked by hand: 1,000 rows for two threads, 1000 / 4 = 250 -> 248 (whole
        // blocks of four rows), 752 / 4 = 188, 564 / 4 = 141 -> 140, then 424 / 4 = 106 is below 128: 128s and the rest.
        Assert.Equal([new(0, 0, 248), new(0, 248, 436), new(0, 436, 576), new(0, 576, 704), new(0, 704, 832),
            new(0, 832, 960), new(0, 960, 1000)], Cut([1000], 2048, threads: 2));
        // Several weights (Llama-3.2-1B's q, k and v): the rows left counted over all of them, no piece across two.
        // 3072 / 4 = 768, 2304 / 4 = 576, 1728 / 4 = 432, 1296 / 4 = 324 (q's last 272), 1024 / 4 = 256, 768 / 4 = 192,
        // 576 / 4 = 144 (k's last 64), then 512 / 4 = 128 and below: 128s.
        Assert.Equal([new(0, 0, 768), new(0, 768, 1344), new(0, 1344, 1776), new(0, 1776, 2048), new(1, 0, 256), new(1, 256, 448),
            new(1, 448, 512), new(2, 0, 128), new(2, 128, 256), new(2, 256, 384), new(2, 384, 512)], Cut([2048, 512, 512], 2048, threads: 2));
        // Without threads (the loops for several inputs), 512 KB throughout: 8,192 columns are 32 rows.
        Assert.Equal([new(0, 0, 32), new(0, 32, 64), new(0, 64, 72)], Cut([72], 8192, threads: 0));
    }

    [Theory]
    // Eight bf16 inputs of the tile's columns within two thirds of the L1 data cache: 8 x 2 x 1024 = 16 KB <= 21.3 KB but
    // 32 KB > 21.3 (32 KB, Zen 4); 32 KB <= 32 KB (48 KB, Zen 5; Intel since Ice Lake); 64 KB > 42.7 (64 KB); 256 the least.
    [InlineData(32 << 10, 1024)]
    [InlineData(48 << 10, 2048)]
    [InlineData(64 << 10, 2048)]
    [InlineData(96 << 10, 4096)]
    [InlineData(4 << 10, 256)]
    public void The_dot_loops_tile_holds_eight_inputs_in_two_thirds_of_the_l1_cache(int l1Bytes, int tile) =>
        Assert.Equal(tile, Bf16MatVec.DotTileFor(l1Bytes));

    [Theory]
    [InlineData(2048, 1)]
    [InlineData(2048, 2)]
    [InlineData(8192, 4)]
    [InlineData(2048, 0)]
    public void Pieces_cover_every_row_once_in_order_within_the_counted_bound(int cols, int threads)
    {
        int[] outputs = [2048, 512, 512, 8192, 4, 1];
        var pieces = Cut(outputs, cols, threads);
        Assert.True(pieces.Length <= Bf16MatVec.Cut(outputs, cols, threads, null));
        for (int j = 0; j < outputs.Length; j++)
        {
            var own = pieces.Where(p => p.Weight == j).ToArray();
            Assert.Equal(0, own[0].From);
            Assert.Equal(outputs[j], own[^1].To);
            Assert.All(own.Zip(own.Skip(1)), pair => Assert.Equal(pair.First.To, pair.Second.From));
            Assert.All(own, p => Assert.True(p.From % 4 == 0 && p.To > p.From, $"{p}"));
        }
    }

    static Bf16MatVec.Piece[] Cut(int[] outputs, int cols, int threads)
    {
        var pieces = new Bf16MatVec.Piece[Bf16MatVec.Cut(outputs, cols, threads, null)];
        return pieces[..Bf16MatVec.Cut(outputs, cols, threads, pieces)];
    }

    [Fact]
    public void Keeps_the_leading_shape_of_a_single_row()
    {
        using var scope = NewDisposeScope();
        var weight = (randn(8, 32) * 0.1).to(ScalarType.BFloat16);
        var row = randn(32).to(ScalarType.BFloat16);
        Assert.Equal(new long[] { 8 }, Bf16MatVec.Multiply(row, weight).shape);
        Assert.Equal(Bf16MatVec.Multiply(row, weight).to(ScalarType.Float32).data<float>().ToArray(),
            Bf16MatVec.Multiply(row.view(1, 32), weight).to(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void Rounds_every_fp32_value_as_libtorch_does()
    {
        var random = new Random(7);
        var bits = new int[200_000];
        for (int i = 0; i < bits.Length; i++) bits[i] = random.Next(int.MinValue, int.MaxValue);
        // Ties (lower half exactly 0x8000, both parities), the largest finite value, infinities, zeros, subnormals.
        int[] edges = [0x3F808000, 0x3F818000, 0x7F7FFFFF, 0x7F800000, unchecked((int)0xFF800000), 0, unchecked((int)0x80000000), 0x00000001, 0x00008000, 0x7FC00000];
        edges.CopyTo(bits, 0);
        var values = bits.Select(BitConverter.Int32BitsToSingle).ToArray();
        using var libtorch = tensor(values).to(ScalarType.BFloat16);
        var expected = Bf16Ulps.Bits(libtorch);
        for (int i = 0; i < values.Length; i++)
        {
            var ours = Bf16.Round(values[i]);
            if (i % 8 == 0)
            {
                // Eight at a time, widened back: the same bits, NaN stays NaN.
                var eight = Bf16.RoundToFloat(System.Runtime.Intrinsics.Vector256.Create(values, i));
                for (int j = 0; j < 8; j++)
                    Assert.True(float.IsNaN(values[i + j]) ? float.IsNaN(eight[j]) : BitConverter.SingleToUInt32Bits(eight[j]) == (uint)Bf16.Round(values[i + j]) << 16,
                        $"{values[i + j]:R}: eight at a time {BitConverter.SingleToUInt32Bits(eight[j]):X8}");
            }
            if (float.IsNaN(values[i])) Assert.True((ours & 0x7F80) == 0x7F80 && (ours & 0x7F) != 0, $"NaN {bits[i]:X8} → {ours:X4}");
            else Assert.True(expected[i] == ours, $"{values[i]:R} ({bits[i]:X8}): libtorch {expected[i]:X4}, ours {ours:X4}");
        }
    }

    [Fact]
    public void Every_loop_family_rounds_its_sums_to_nearest_even_and_keeps_nan_and_infinity()
    {
        // Weight rows against inputs of [1, 1, 0, 0, ...]: exact fp32 sums chosen by hand. 1 + 2^-8 is 0x3F808000, a tie
        // with an even neighbour (-> 0x3F80); 1.0078125 + 2^-8 a tie with an odd one (-> 0x3F82); infinity times the
        // input's 0 a NaN (-> 0x7FC0, as libtorch and Bf16.Round write one); the largest bf16 twice overflows to infinity.
        ushort[][] rows = [[0x3F80, 0x3B80, 0], [0x3F81, 0x3B80, 0], [0, 0, 0x7F80], [0x7F7F, 0x7F7F, 0], [0x3FC0, 0, 0]];
        ushort[] expected = [0x3F80, 0x3F82, 0x7FC0, 0x7F80, 0x3FC0];
        const int cols = 64;
        var values = new float[rows.Length * cols]; // each bf16 widened exactly
        for (int r = 0; r < rows.Length; r++)
            for (int c = 0; c < 3; c++) values[r * cols + c] = BitConverter.Int32BitsToSingle(rows[r][c] << 16);
        using var scope = NewDisposeScope();
        var weight = tensor(values).view(rows.Length, cols).to(ScalarType.BFloat16);
        // One input (the lone row's loop); four and one; eight and one: with five weight rows, pairs and a last odd row.
        foreach (int inputs in new[] { 1, 5, 9 })
        {
            var x = zeros(inputs, cols, dtype: ScalarType.BFloat16);
            x[.., ..2] = ones(inputs, 2, dtype: ScalarType.BFloat16);
            foreach (var loops in Families)
            {
                var ours = Bf16Ulps.Bits(Bf16MatVec.Multiply(x, weight, loops));
                for (int i = 0; i < inputs; i++)
                    for (int r = 0; r < rows.Length; r++)
                        Assert.True(expected[r] == ours[i * rows.Length + r], $"loops {loops}, {inputs} inputs, input {i}, row {r}: {ours[i * rows.Length + r]:X4}, not {expected[r]:X4}");
            }
        }
    }

    [Fact]
    public void Applies_to_a_decode_batch_of_bf16_rows_against_a_contiguous_bf16_matrix()
    {
        using var scope = NewDisposeScope();
        var weight = zeros(8, 32, dtype: ScalarType.BFloat16);
        var rows = zeros(2, 1, 32, dtype: ScalarType.BFloat16);
        Assert.Equal(Bf16MatVec.ProductsFor(Environment.GetEnvironmentVariable("NOTEBOOKLENS_MATVEC"), Bf16MatVec.Supported, Bf16MatVec.Wide, Bf16MatVec.CpuHasBf16Dot, Bf16MatVec.Dot), Bf16MatVec.Takes);
        Assert.Equal(Bf16MatVec.Takes.OneRow, Bf16MatVec.Applies(zeros(1, 1, 32, dtype: ScalarType.BFloat16), weight));
        Assert.Equal(Bf16MatVec.Takes.Rows(2), Bf16MatVec.Applies(rows, weight));
        Assert.False(Bf16MatVec.Applies(rows.to(ScalarType.Float32), weight.to(ScalarType.Float32)));
        Assert.Equal(Bf16MatVec.Takes.Rows(8), Bf16MatVec.Applies(zeros(8, 1, 32, dtype: ScalarType.BFloat16), weight)); // a decode batch
        Assert.Equal(Bf16MatVec.Takes.Rows(300), Bf16MatVec.Applies(zeros(1, 300, 32, dtype: ScalarType.BFloat16), weight)); // a prefill
        Assert.False(Bf16MatVec.Applies(zeros(2, 1, 8, dtype: ScalarType.BFloat16), zeros(32, 8, dtype: ScalarType.BFloat16).t())); // a transposed view
        Assert.False(Bf16MatVec.Applies(zeros(2, 1, 24, dtype: ScalarType.BFloat16), zeros(8, 24, dtype: ScalarType.BFloat16))); // not whole 16-wide loads
        Assert.False(Bf16MatVec.Applies(rows, weight.clone().requires_grad_(true))); // autograd needs libtorch's op
        Assert.False(Bf16MatVec.Applies(zeros(4, 1, 16, dtype: ScalarType.BFloat16), weight)); // shapes that do not match: libtorch says why
    }

    [Theory]
    [InlineData(null, true, false, false, false, false, int.MaxValue)] // AVX2: one row is libtorch's, two and more the kernel's
    [InlineData(null, true, true, false, false, true, int.MaxValue)] // AVX-512: one row too
    [InlineData(null, true, true, true, false, true, Bf16MatVec.DecodeBatch)] // bf16 dot products: libtorch's prefills beat the managed loops, not its decode batches
    [InlineData(null, true, true, true, true, true, Bf16MatVec.DotRows)] // and the kernel's own bf16 dot products: up to 16 rows
    [InlineData(null, true, false, true, false, false, 0)] // bf16 dot products and AVX2 only: libtorch's products all beat the kernel's
    [InlineData("ours", true, false, true, false, true, int.MaxValue)]
    [InlineData("torch", true, true, false, false, false, 0)]
    [InlineData("torch", true, true, true, true, false, 0)]
    [InlineData(null, false, true, false, false, false, 0)] // no AVX2: the kernel cannot run
    [InlineData("ours", false, false, false, false, false, 0)]
    public void The_kernel_takes_the_products_the_setting_and_the_cpu_give_it(string? setting, bool supported, bool wide, bool bf16Dot, bool dot, bool oneRow, int manyRowsUpTo) =>
        Assert.Equal(new KernelProducts(oneRow, manyRowsUpTo), Bf16MatVec.ProductsFor(setting, supported, wide, bf16Dot, dot));

    [Theory]
    [InlineData(true, true, 16, "Bf16Dot", "bf16 products: 1 row NotebookLens's kernel (AVX-512); 2 to 16 rows NotebookLens's kernel (AVX512_BF16 dot products), more libtorch's")]
    [InlineData(true, true, int.MaxValue, "Avx512", "bf16 products: 1 row NotebookLens's kernel (AVX-512); 2 rows or more NotebookLens's kernel (AVX-512)")]
    [InlineData(true, false, int.MaxValue, "Avx2", "bf16 products: 1 row libtorch's; 2 rows or more NotebookLens's kernel (AVX2)")]
    [InlineData(true, false, 0, "Avx2", "bf16 products: 1 row libtorch's; 2 rows or more libtorch's")]
    [InlineData(false, false, 0, "Avx2", "bf16 products: libtorch's (NotebookLens's kernel needs AVX2 with FMA)")]
    public void The_kernel_says_which_products_it_takes(bool supported, bool oneRow, int manyRowsUpTo, string loops, string expected) =>
        Assert.Equal(expected, Bf16MatVec.Describe(supported, new KernelProducts(oneRow, manyRowsUpTo), Enum.Parse<MatVecLoops>(loops)));

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(8, true)]
    [InlineData(9, false)]
    [InlineData(128, false)]
    public void A_decode_batch_is_the_kernels_and_a_prefill_libtorchs_where_libtorch_has_bf16_dot_products(int rows, bool kernel) =>
        Assert.Equal(kernel, new KernelProducts(OneRow: true, ManyRowsUpTo: Bf16MatVec.DecodeBatch).Rows(rows));

    [Fact]
    public void Bf16_dot_products_are_detected_as_the_kernel_lists_its_flags()
    {
        // Independent of CPUID: the flags Linux reports.
        if (!File.Exists("/proc/cpuinfo")) return;
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        Assert.Equal(flags.Contains("avx512_bf16") || flags.Contains("amx_bf16"), Bf16MatVec.CpuHasBf16Dot);
        // The native loops: AVX512_BF16 (with AVX-512 BW, which every CPU with it has), on Linux x86-64.
        bool linuxX64 = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        Assert.Equal(flags.Contains("avx512_bf16") && flags.Contains("avx512bw") && linuxX64, Bf16MatVec.Dot);
        Assert.Equal(Bf16MatVec.Dot ? MatVecLoops.Bf16Dot : Bf16MatVec.Wide ? MatVecLoops.Avx512 : MatVecLoops.Avx2, Bf16MatVec.Best);
    }
}
