using System.Diagnostics;
using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;

/// <summary>
/// Decoding is reading every weight once per step, so its limit is the machine's read bandwidth: the benchmark
/// prints the time per token against that bound, with our bf16 matrix-vector kernel and with libtorch's matmul.
/// </summary>
static class DecodeBenchmark
{
    const int PromptTokens = 128, NewTokens = 32, Batch = 8;

    public static int Run(string dir)
    {
        LoadBenchmark.EnsureCheckpoint(dir);
        // A tied head reads the embedding table as the output layer: every byte of the file is read once per token.
        long weightBytes = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        Console.WriteLine($"Llama-3.2-1B shapes, random bf16 weights ({dir}): {weightBytes / 1e9:F2} GB read per decoded token");
        Console.WriteLine($"prompt {PromptTokens} tokens, {NewTokens} new tokens, greedy, KV cache; batch {Batch}: {Batch} such prompts at once; fresh process per row");
        Console.WriteLine("bound = weight bytes / read bandwidth measured in the same process just before; goal: batch 1 at >= 70 % of it");
        Console.WriteLine($"{"matmul",-8} {"read GB/s",10} {"bound ms",9} {"ms/token",9} {"of bound",9} {"batch 1 tok/s",14} {"batch 8 tok/s",14} {"batch gain",11}");
        foreach (var kernel in new[] { "ours", "torch" })
        {
            var f = Child.Run(kernel == "torch" ? new() { ["NOTEBOOKLENS_MATVEC"] = "torch" } : [], "measure-decode", dir);
            double bandwidth = f[0], msPerToken = f[1] * 1000, batched = f[2];
            double bound = weightBytes / bandwidth * 1000;
            Console.WriteLine($"{kernel,-8} {bandwidth / 1e9,10:F1} {bound,9:F0} {msPerToken,9:F0} {bound / msPerToken,9:P0} {1000 / msPerToken,14:F2} {batched,14:F2} {batched * msPerToken / 1000,10:F1}x");
        }
        return 0;
    }

    /// <summary>Prints "read-bandwidth seconds-per-token-batch-1 tokens-per-second-batch-8".</summary>
    public static int Measure(string dir)
    {
        TorchRuntime.EnsureLoaded();
        using var model = LanguageModel.Load(dir);
        var random = new Random(1);
        var prompts = Enumerable.Range(0, Batch).Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, PromptTokens).Select(_ => random.Next(1000, 100000)).ToList()).ToList();
        model.Generate(prompts[0].Take(8).ToList(), new GenerationOptions { MaxNewTokens = 2, StopTokens = [] }); // warm-up: JIT and first touch of the weights
        double bandwidth = MachineLimits.ReadBandwidth();
        double single = SecondsPerStep(model, prompts.Take(1).ToList());
        double batched = Batch / SecondsPerStep(model, prompts);
        Console.WriteLine($"{bandwidth} {single} {batched}");
        return 0;
    }

    /// <summary>Time per decode step, between the first new token (which includes the prefill) and the last.</summary>
    static double SecondsPerStep(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts)
    {
        var clock = Stopwatch.StartNew();
        var stamps = new List<double>();
        model.GenerateBatch(prompts, new GenerationOptions
        {
            MaxNewTokens = NewTokens, StopTokens = [], OnToken = t => { if (t.Sequence == 0) stamps.Add(clock.Elapsed.TotalSeconds); },
        });
        return (stamps[^1] - stamps[0]) / (NewTokens - 1);
    }
}
