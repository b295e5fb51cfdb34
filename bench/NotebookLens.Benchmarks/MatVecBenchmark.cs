using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

/// <summary>
/// The few-row bf16 products of a decode step, one layer's shapes of Llama-3.2-1B and its output layer, with our kernel
/// and with libtorch's matmul: milliseconds, GF/s and the weights' GB/s, for 1 and 8 rows; where the kernel has bf16
/// dot products (<see cref="Bf16MatVec.Dot"/>), also its managed AVX-512 loops' milliseconds. The products' outputs are
/// reused from the heap as a decode step's are (<see cref="NativeHeap.ReuseBlocks"/>): outside such a scope glibc maps
/// each output of eight rows of the output layer (2 MB) anew, and its 512 page faults made the product 15-16 ms instead
/// of 9-10 (AMD EPYC Zen 5 VM, where a fault costs 13.5 µs): the figure was the faults', not the kernel's.
/// </summary>
static class MatVecBenchmark
{
    static readonly (string Name, int Out, int In)[] Shapes =
        [("q/o", 2048, 2048), ("k/v", 512, 2048), ("gate/up", 8192, 2048), ("down", 2048, 8192), ("head", 128256, 2048)];

    public static int Run()
    {
        TorchRuntime.EnsureLoaded();
        using var reuse = NativeHeap.ReuseBlocks();
        Console.WriteLine($"threads {get_num_threads()}; best of 15 calls (after 2 warm-up) per cell");
        Console.WriteLine($"kernel loops: {Bf16MatVec.Best}");
        Console.WriteLine($"{"shape",-8} {"rows",5} {"ours ms",8} {"GF/s",7} {"GB/s",7} {"torch ms",9} {"GF/s",7} {"GB/s",7}{(Bf16MatVec.Dot ? $" {"AVX-512 ms",11}" : "")}");
        foreach (var (name, outputs, inputs) in Shapes)
        {
            using var scope = NewDisposeScope();
            // In huge pages, as a checkpoint's mapping is advised (HugePages.Advise): in the 4 KB pages of a plain tensor the
            // products miss the TLB at every page of the rows they stride over, and the output layer's product ran at 20
            // (eight rows) and 42 GB/s (one) instead of 39 and 75 (Zen 5 VM), which no decode step sees.
            var weight = HugePages.Empty([outputs, inputs], ScalarType.BFloat16) ?? empty(outputs, inputs, ScalarType.BFloat16);
            using (var draw = randn(outputs, inputs) * 0.02) weight.copy_(draw);
            foreach (var rows in new[] { 1, 8 })
            {
                var x = randn(rows, inputs).to(ScalarType.BFloat16);
                double ours = Best(() => Bf16MatVec.Multiply(x, weight)), torch = Best(() => nn.functional.linear(x, weight));
                double flops = 2.0 * rows * outputs * inputs, bytes = 2.0 * outputs * inputs;
                string managed = Bf16MatVec.Dot ? $" {Best(() => Bf16MatVec.Multiply(x, weight, MatVecLoops.Avx512)) * 1e3,11:F2}" : "";
                Console.WriteLine($"{name,-8} {rows,5} {ours * 1e3,8:F2} {flops / ours / 1e9,7:F1} {bytes / ours / 1e9,7:F1} {torch * 1e3,9:F2} {flops / torch / 1e9,7:F1} {bytes / torch / 1e9,7:F1}{managed}");
            }
        }
        return 0;
    }

    static double Best(Func<Tensor> product) => Timing.BestSeconds(15, () => { using (product()) { } }, warmUp: 2);
}
