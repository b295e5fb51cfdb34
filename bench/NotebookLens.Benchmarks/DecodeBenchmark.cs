using System.Diagnostics;
using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

/// <summary>
/// Each figure against what the machine allows, measured in the same process: decoding reads every weight once per
/// step, so its limit is the read bandwidth; a prefill is matrix products, so its limit is libtorch's bf16 GEMM
/// throughput on the prefill's own shapes; memory is held to the checkpoint's size. With our bf16 kernel and with
/// libtorch's matmul for the few-row products.
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

    /// <summary>Prints "read-bandwidth seconds-per-token-batch-1 tokens-per-second-batch-8 gemm-flops/s prefill-flops/s peak-rss".</summary>
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
        double gemm = GemmCeiling(model);
        double prefill = PrefillFlops(model.Config, PromptTokens) / PrefillSeconds(model, prompts[0]);
        Console.WriteLine($"{bandwidth} {single} {batched} {gemm} {prefill} {LoadBenchmark.Status("VmHWM")}");
        return 0;
    }

    /// <summary>One prompt's forward pass keeping every hidden state and attention map, best of three.</summary>
    static double PrefillSeconds(LanguageModel model, IReadOnlyList<int> prompt)
    {
        using var ids = tensor(prompt.Select(i => (long)i).ToArray());
        double best = double.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            var clock = Stopwatch.StartNew();
            using (model.Forward(ids, ForwardOptions.Everything)) { }
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// Multiply-adds of a prefill, times two: every linear layer per token, the output layer at every position
    /// (the full logits are kept), and attention's scores and weighted sums over the causal triangle.
    /// </summary>
    static double PrefillFlops(ModelConfig c, int tokens)
    {
        double q = c.NumHeads * c.HeadDim, kv = c.NumKeyValueHeads * c.HeadDim;
        double perLayer = c.HiddenSize * (q + 2 * kv) + q * c.HiddenSize + 3.0 * c.HiddenSize * c.IntermediateSize;
        double linear = 2 * tokens * (c.NumLayers * perLayer + (double)c.VocabSize * c.HiddenSize);
        double attention = c.NumLayers * 2 * 2 * q * tokens * (tokens + 1) / 2.0;
        return linear + attention;
    }

    /// <summary>libtorch's best bf16 GEMM throughput on the prefill's largest products (MLP up and down), best of five each.</summary>
    static double GemmCeiling(LanguageModel model)
    {
        var c = model.Config;
        double best = 0;
        foreach (var (outFeatures, inFeatures) in new[] { (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, c.IntermediateSize) })
        {
            using var x = randn(PromptTokens, inFeatures).to(ScalarType.BFloat16);
            using var w = randn(outFeatures, inFeatures).to(ScalarType.BFloat16);
            for (int pass = 0; pass < 5; pass++)
            {
                var clock = Stopwatch.StartNew();
                using (nn.functional.linear(x, w)) { }
                best = Math.Max(best, 2.0 * PromptTokens * outFeatures * inFeatures / clock.Elapsed.TotalSeconds);
            }
        }
        return best;
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
