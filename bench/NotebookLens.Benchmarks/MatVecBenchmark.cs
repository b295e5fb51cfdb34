using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

/// <summary>
/// The few-row bf16 products of a decode step, one layer's shapes of Llama-3.2-1B and its output layer, with our kernel
/// and with libtorch's matmul: milliseconds, GF/s and the weights' GB/s, for 1 and 8 rows; where the kernel has bf16
/// dot products (<see cref="Bf16MatVec.Dot"/>), also its managed AVX-512 loops' milliseconds.
/// </summary>
static class MatVecBenchmark
{
    static readonly (string Name, int Out, int In)[] Shapes =
        [("q/o", 2048, 2048), ("k/v", 512, 2048), ("gate/up", 8192, 2048), ("down", 2048, 8192), ("head", 128256, 2048)];

    public static int Run()
    {
        TorchRuntime.EnsureLoaded();
        Console.WriteLine($"threads {get_num_threads()}; best of 15 calls (after 2 warm-up) per cell");
        Console.WriteLine($"kernel loops: {Bf16MatVec.Best}");
        Console.WriteLine($"{"shape",-8} {"rows",5} {"ours ms",8} {"GF/s",7} {"GB/s",7} {"torch ms",9} {"GF/s",7} {"GB/s",7}{(Bf16MatVec.Dot ? $" {"AVX-512 ms",11}" : "")}");
        foreach (var (name, outputs, inputs) in Shapes)
        {
            using var scope = NewDisposeScope();
            var weight = (randn(outputs, inputs) * 0.02).to(ScalarType.BFloat16).contiguous();
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
