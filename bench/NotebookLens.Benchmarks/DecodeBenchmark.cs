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
        Console.WriteLine("default: what NotebookLens does on this machine; the other rows force one matmul for the few-row products");
        Console.WriteLine($"{"matmul",-8} {"read GB/s",10} {"bound ms",9} {"ms/token",9} {"of bound",9} {"batch 1 tok/s",14} {"batch 8 tok/s",14} {"batch gain",11}");
        var rows = new Dictionary<string, double[]>();
        foreach (var (kernel, setting) in new[] { ("default", ""), ("ours", "ours"), ("torch", "torch") })
        {
            var f = rows[kernel] = Child.Run(setting == "" ? [] : new() { ["NOTEBOOKLENS_MATVEC"] = setting }, "measure-decode", dir);
            double bandwidth = f[0], msPerToken = f[1] * 1000, batched = f[2];
            double bound = weightBytes / bandwidth * 1000;
            Console.WriteLine($"{kernel,-8} {bandwidth / 1e9,10:F1} {bound,9:F0} {msPerToken,9:F0} {bound / msPerToken,9:P0} {1000 / msPerToken,14:F2} {batched,14:F2} {batched * msPerToken / 1000,10:F1}x");
        }
        var d = rows["default"];
        // Generation's peak is the goal's; the GEMM probe's arrays are the benchmark's, not NotebookLens's.
        double ofBound = weightBytes / d[0] / d[1], gain = d[2] * d[1], ofGemm = d[4] / d[3], rss = Math.Max(d[5], d[6]) / weightBytes;
        Console.WriteLine($"prefill, {PromptTokens} tokens, every hidden state and attention map kept: {d[4] / 1e9:F1} GF/s; libtorch's bf16 GEMM on its shapes: {d[3] / 1e9:F1} GF/s ({ofGemm:P0})");
        Console.WriteLine($"peak RSS (weights mapped and read) decoding batch 1: {d[5] / 1e9:F2} GB ({d[5] / weightBytes:F2}x the file), batch 8: {d[6] / 1e9:F2} GB ({d[6] / weightBytes:F2}x), "
            + $"the GEMM probe: {d[7] / 1e9:F2} GB, the prefill keeping everything: {d[8] / 1e9:F2} GB ({d[8] / weightBytes:F2}x)");
        Console.WriteLine($"of which the runtime before any model is loaded (.NET, libtorch's code and start-up heap): {d[9] / 1e9:F2} GB; "
            + $"generation's peak without it: {(Math.Max(d[5], d[6]) - d[9]) / weightBytes:F2}x the file");
        var n = Child.Run("measure-neighbors", dir);
        Console.WriteLine($"nearest neighbours over {n[0]:F0} x {n[1]:F0}: {n[2]:F2} s once (norms), then {n[3] * 1000:F0} ms per query");
        Console.WriteLine("goals (issue #15), default row:");
        Goal("bf16 decode, batch 1, >= 70 % of the read-bandwidth bound", ofBound >= 0.70, $"{ofBound:P0}");
        Goal("batch 8 >= 5x the tokens/s of batch 1", gain >= 5, $"{gain:F1}x");
        Goal("bf16 prefill with everything kept >= 70 % of the GEMM ceiling", ofGemm >= 0.70, $"{ofGemm:P0}");
        Goal("peak RSS during generation <= 1.1x the checkpoint", rss <= 1.1, $"{rss:F2}x");
        Goal("nearest-neighbour query over 128k x 2048 < 0.2 s", n[3] < 0.2, $"{n[3] * 1000:F0} ms");
        Console.WriteLine("  fp32 prefill vs PyTorch eager: `bench eager`; the 3B refusal experiment: `bench refusal`");
        return 0;
    }

    static void Goal(string what, bool met, string figure) => Console.WriteLine($"  {(met ? "met    " : "NOT met")} {what}: {figure}");

    /// <summary>
    /// Prints "read-bandwidth seconds-per-token-batch-1 tokens-per-second-batch-8 gemm-flops/s prefill-flops/s" and the
    /// peak RSS of each phase: decoding batch 1, decoding batch 8, the GEMM probe (the benchmark's own arrays), the prefill;
    /// then the RSS of the runtime alone (.NET and libtorch, before the model is loaded).
    /// </summary>
    public static int Measure(string dir)
    {
        TorchRuntime.EnsureLoaded();
        using (ones(1)) { } // libtorch's own start-up allocations (its operator registry: about 50 MB of heap)
        long runtime = LoadBenchmark.Status("VmRSS");
        using var model = LanguageModel.Load(dir);
        var random = new Random(1);
        var prompts = Enumerable.Range(0, Batch).Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, PromptTokens).Select(_ => random.Next(1000, 100000)).ToList()).ToList();
        model.Generate(prompts[0].Take(8).ToList(), new GenerationOptions { MaxNewTokens = 2, StopTokens = [] }); // warm-up: JIT and first touch of the weights
        double bandwidth = MachineLimits.ReadBandwidth(); // resets the peak
        double single = SecondsPerStep(model, prompts.Take(1).ToList());
        long singlePeak = PeakSinceLast();
        double batched = Batch / SecondsPerStep(model, prompts);
        long batchPeak = PeakSinceLast();
        double gemm = GemmCeiling(model);
        long gemmPeak = PeakSinceLast();
        // The full logits are kept: the output layer runs at every position.
        double prefill = FlopCount.Pass(model.Config, 1, PromptTokens, 0, PromptTokens) / PrefillSeconds(model, prompts[0]);
        long prefillPeak = PeakSinceLast();
        Console.WriteLine($"{bandwidth} {single} {batched} {gemm} {prefill} {singlePeak} {batchPeak} {gemmPeak} {prefillPeak} {runtime}");
        return 0;
    }

    /// <summary>The peak RSS (VmHWM) since the last reset, then a reset: the peak of the phase just ended.</summary>
    static long PeakSinceLast()
    {
        long peak = LoadBenchmark.Status("VmHWM");
        File.WriteAllText("/proc/self/clear_refs", "5");
        return peak;
    }

    /// <summary>One prompt's forward pass keeping every hidden state and attention map, best of three.</summary>
    static double PrefillSeconds(LanguageModel model, IReadOnlyList<int> prompt)
    {
        using var ids = tensor(prompt.Select(i => (long)i).ToArray());
        return Timing.BestSeconds(3, () => { using (model.Forward(ids, ForwardOptions.Everything)) { } });
    }

    /// <summary>libtorch's best bf16 GEMM throughput on the prefill's largest products (MLP up and down), best of five each.</summary>
    internal static double GemmCeiling(LanguageModel model)
    {
        var c = model.Config;
        double best = 0;
        foreach (var (outFeatures, inFeatures) in new[] { (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, c.IntermediateSize) })
        {
            // Drawn in bf16: fp32 draws left to the garbage collector stayed resident into the next phase's peak.
            using var x = randn([PromptTokens, inFeatures], dtype: ScalarType.BFloat16);
            using var w = randn([outFeatures, inFeatures], dtype: ScalarType.BFloat16);
            best = Math.Max(best, 2.0 * PromptTokens * outFeatures * inFeatures / Timing.BestSeconds(5, () => { using (nn.functional.linear(x, w)) { } }));
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
