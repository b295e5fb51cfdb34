using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>The fp32 kernel of models loaded in float32, held to a scalar chain of fused multiply-adds and to float64 products.</summary>
public class F32GemmTests
{
    public F32GemmTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 6, 3)]
    [InlineData(2, 7, 17)]
    [InlineData(7, 13, 64)]
    [InlineData(16, 5, 33)] // one whole vector of rows
    [InlineData(17, 12, 40)] // a vector and one row: the loops take two
    [InlineData(48, 37, 9)]
    [InlineData(64, 6, 100)] // one whole tile
    [InlineData(65, 19, 31)] // a tile and one row
    [InlineData(128, 8, 16)] // one whole chunk of two tiles
    [InlineData(131, 37, 70)] // two chunks and a part: a prefill
    public void Each_output_is_the_fused_multiply_adds_of_its_row_in_column_order(int inputs, int rows, int cols)
    {
        if (!F32Gemm.Available) return; // no AVX-512 here: libtorch's products run
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(inputs * 1_000_000 + rows * 1000 + cols));
        var weight = randn(rows, cols, generator: generator) * 0.05;
        var x = randn(inputs, cols, generator: generator) * 3;

        var ours = F32Gemm.Multiply(x, weight);
        Assert.Equal(new long[] { inputs, rows }, ours.shape);
        Assert.Equal(ScalarType.Float32, ours.dtype);
        // Independent: a scalar fp32 chain, one fused multiply-add per column in order, as the doc comment promises
        // (the same result whatever the row's batch, tile or group).
        float[] xs = x.data<float>().ToArray(), ws = weight.data<float>().ToArray(), got = ours.data<float>().ToArray();
        for (int i = 0; i < inputs; i++)
            for (int j = 0; j < rows; j++)
            {
                float sum = 0;
                for (int p = 0; p < cols; p++) sum = MathF.FusedMultiplyAdd(xs[i * cols + p], ws[j * cols + p], sum);
                Assert.True(sum.Equals(got[i * rows + j]), $"output ({i}, {j}): {got[i * rows + j]:R}, the chain gives {sum:R}");
            }
    }

    [Theory]
    [InlineData(3, 2048, 512)]
    [InlineData(130, 4096, 96)]
    public void Equals_the_float64_product_within_fp32_rounding(int inputs, int cols, int rows)
    {
        if (!F32Gemm.Available) return;
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(inputs + cols + rows));
        var weight = randn(rows, cols, generator: generator) * 0.02;
        var x = randn(2, inputs, cols, generator: generator);

        var ours = F32Gemm.Multiply(x, weight).to(ScalarType.Float64);
        var x64 = x.to(ScalarType.Float64);
        var w64 = weight.to(ScalarType.Float64);
        var exact = x64.matmul(w64.t());
        // A sum of n products rounded at each step is within n u Σ|xᵢwᵢ| of the exact sum (u = 2⁻²⁴).
        var bound = x64.abs().matmul(w64.abs().t()) * (cols * Math.Pow(2, -24));
        Assert.Equal(new long[] { 2, inputs, rows }, ours.shape);
        Assert.True((ours - exact).abs().le(bound).all().item<bool>(), "an output is further from the exact product than fp32 rounding allows");
        Assert.True((ours - nn.functional.linear(x, weight).to(ScalarType.Float64)).abs().le(bound).all().item<bool>(), "an output is far from libtorch's");
    }

    [Fact]
    public void Takes_a_strided_input_as_its_contiguous_copy()
    {
        if (!F32Gemm.Available) return;
        using var scope = NewDisposeScope();
        var weight = randn(11, 24);
        var x = randn(24, 9).t(); // [9, 24], column-major
        Assert.False(x.is_contiguous());
        Assert.Equal(F32Gemm.Multiply(x.contiguous(), weight).data<float>().ToArray(), F32Gemm.Multiply(x, weight).data<float>().ToArray());
    }

    [Fact]
    public void Applies_to_fp32_rows_against_a_contiguous_fp32_matrix_where_it_takes_the_products()
    {
        using var scope = NewDisposeScope();
        var weight = randn(8, 16);
        Assert.Equal(F32Gemm.Takes, F32Gemm.Applies(randn(3, 16), weight));
        Assert.False(F32Gemm.Applies(randn(3, 16).to(ScalarType.BFloat16), weight.to(ScalarType.BFloat16)));
        Assert.False(F32Gemm.Applies(randn(3, 16), randn(16, 8).t())); // a transposed view
        Assert.False(F32Gemm.Applies(randn(3, 15), weight));
        Assert.False(F32Gemm.Applies(randn(0, 16), weight));
        Assert.False(F32Gemm.Applies(randn(3, 16), weight.requires_grad_()));
    }

    [Theory]
    [InlineData(null, true, true, true)]
    [InlineData(null, true, false, false)] // MKL's own vendor keeps them
    [InlineData(null, false, true, false)]
    [InlineData("torch", true, true, false)]
    [InlineData("ours", true, false, true)]
    [InlineData("ours", false, true, false)]
    public void The_kernel_takes_the_products_the_setting_and_the_cpu_give_it(string? setting, bool available, bool amd, bool takes) =>
        Assert.Equal(takes, F32Gemm.TakesFor(setting, available, amd));

    [Fact]
    public void The_loops_are_detected_as_linux_lists_the_cpu()
    {
        // Independent of CPUID: what Linux reports.
        if (!File.Exists("/proc/cpuinfo")) return;
        var lines = File.ReadLines("/proc/cpuinfo").ToArray();
        var flags = lines.First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        bool linuxX64 = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        Assert.Equal(flags.Contains("avx512f") && linuxX64, F32Gemm.Available);
        Assert.Equal(F32Gemm.Takes ? "fp32 products: NotebookLens's kernel (AVX-512)" : "fp32 products: libtorch's", F32Gemm.Description);
    }

    [Fact]
    public void Linear_layers_take_fp32_products_through_the_kernel_where_it_takes_them()
    {
        // Every model's linear layers and output layer go through Linear.Project.
        if (!F32Gemm.Takes) return;
        using var scope = NewDisposeScope();
        var weight = randn(37, 64);
        var x = randn(1, 5, 64);
        var projected = Linear.Project(x, weight);
        Assert.Equal(F32Gemm.Multiply(x, weight).data<float>().ToArray(), projected.data<float>().ToArray());
    }
}
