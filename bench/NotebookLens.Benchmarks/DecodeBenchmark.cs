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
    const int PromptTokens = 128, NewTokens = 32, Batch = 8, LongPromptTokens = 1000;

    /// <summary>
    /// The goals are set on Llama-3.2-1B's shapes; on other shapes (Gemma-3-4B's, the lecture's second model) the same
    /// figures are printed without them.
    /// </summary>
    public static int Run(string dir, CheckpointShapes shapes)
    {
        LoadBenchmark.EnsureCheckpoint(dir, shapes);
        // A tied head reads the embedding table as the output layer: every byte of the file is read once per token.
        long weightBytes = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        Console.WriteLine($"{shapes.Name} shapes, random bf16 weights ({dir}): {weightBytes / 1e9:F2} GB read per decoded token");
        Console.WriteLine($"prompt {PromptTokens} tokens, {NewTokens} new tokens, greedy, KV cache; batch {Batch}: {Batch} such prompts at once; fresh process per row");
        Console.WriteLine("bound: before each step of batch 1, the model's mapped weights read once with no arithmetic (all cores); of bound = that read's");
        Console.WriteLine("time / the step's, median over the steps (the machine's bandwidth drifts by 2x within minutes: only reads next to a step compare)");
        Console.WriteLine("default: what NotebookLens does on this machine; the other rows force one matmul for the few-row products; ms/token: median (mean)");
        Console.WriteLine($"{"matmul",-8} {"read GB/s",10} {"bound ms",9} {"ms/token",14} {"of bound",9} {"batch 1 tok/s",14} {"batch 8 tok/s",14} {"batch gain",11}");
        var rows = new Dictionary<string, double[]>();
        foreach (var (kernel, setting) in new[] { ("default", ""), ("ours", "ours"), ("torch", "torch") })
        {
            var f = rows[kernel] = Child.Run(setting == "" ? [] : new() { ["NOTEBOOKLENS_MATVEC"] = setting }, "measure-decode", dir);
            double msPerToken = f[1] * 1000, batched = f[2], bound = f[10] * 1000, mean = f[11] * 1000;
            Console.WriteLine($"{kernel,-8} {weightBytes / f[10] / 1e9,10:F1} {bound,9:F0} {$"{msPerToken:F0} ({mean:F0})",14} {f[0],9:P0} {1000 / msPerToken,14:F2} {batched,14:F2} {batched * msPerToken / 1000,10:F1}x");
        }
        var d = rows["default"];
        // Generation's peak is the goal's; the GEMM probe's arrays are the benchmark's, not NotebookLens's.
        double ofBound = d[0], gain = d[2] * d[1], ofGemm = d[4] / d[3], rss = Math.Max(d[5], d[6]) / weightBytes;
        Console.WriteLine($"prefill, {PromptTokens} tokens, every hidden state and attention map kept: {d[4] / 1e9:F1} GF/s; libtorch's bf16 GEMM on its shapes: {d[3] / 1e9:F1} GF/s ({ofGemm:P0})");
        Console.WriteLine($"peak RSS (weights mapped and read) decoding batch 1: {d[5] / 1e9:F2} GB ({d[5] / weightBytes:F2}x the file), batch 8: {d[6] / 1e9:F2} GB ({d[6] / weightBytes:F2}x), "
            + $"the GEMM probe: {d[7] / 1e9:F2} GB, the prefill keeping everything: {d[8] / 1e9:F2} GB ({d[8] / weightBytes:F2}x)");
        Console.WriteLine($"of which the runtime before any model is loaded (.NET, libtorch's code and start-up heap): {d[9] / 1e9:F2} GB; "
            + $"generation's peak without it: {(Math.Max(d[5], d[6]) - d[9]) / weightBytes:F2}x the file");
        // What batch 8's peak cannot go below: the mapped weights and the runtime as a generation leaves them, plus its KV cache.
        double floor = d[12] + d[13];
        Console.WriteLine($"under batch 8's peak: the weights and the runtime after a warm-up generation, {d[12] / 1e9:F2} GB ({d[12] / weightBytes:F3}x the file), "
            + $"and its KV cache, {Batch} x {PromptTokens + NewTokens} positions, {d[13] / 1e9:F3} GB: {floor / weightBytes:F3}x before any activation "
            + $"({(1.1 * weightBytes - floor) / 1e6:F0} MB left under 1.1x)");
        var l = Child.Run("measure-long", dir);
        Console.WriteLine($"a long prompt, {LongPromptTokens:N0} tokens, the last position's logits: {l[0] / 1e9:F1} GF/s ({l[0] / d[3]:P0} of the GEMM ceiling above, "
            + $"another process), {l[1]:N0} page faults a pass, peak RSS {l[2] / 1e9:F2} GB ({l[2] / weightBytes:F2}x the file)");
        var n = Child.Run("measure-neighbors", dir);
        Console.WriteLine($"nearest neighbours over {n[0]:F0} x {n[1]:F0}: {n[2]:F2} s once (norms), then {n[3] * 1000:F0} ms per query");
        if (shapes != CheckpointShapes.Llama1B)
        {
            Console.WriteLine($"the goals (issue #15) are set on {CheckpointShapes.Llama1B.Name}'s shapes: `bench decode`");
            return 0;
        }
        Console.WriteLine("goals (issue #15), default row:");
        Goals.Report("bf16 decode, batch 1, >= 70 % of the read-bandwidth bound", ofBound >= 0.70, $"{ofBound:P0}");
        Goals.Report("batch 8 >= 5x the tokens/s of batch 1", gain >= 5, $"{gain:F1}x");
        Goals.Report("bf16 prefill with everything kept >= 70 % of the GEMM ceiling", ofGemm >= 0.70, $"{ofGemm:P0}");
        Goals.Report("peak RSS during generation <= 1.1x the checkpoint", rss <= 1.1, $"{rss:F2}x");
        Goals.Report("nearest-neighbour query over 128k x 2048 < 0.2 s", n[3] < 0.2, $"{n[3] * 1000:F0} ms");
        Console.WriteLine("  fp32 prefill vs PyTorch eager: `bench eager`; the 3B refusal experiment: `bench refusal`; all of them: `bench goals`");
        return 0;
    }

    /// <summary>
    /// Prints "of-bound seconds-per-token-batch-1 tokens-per-second-batch-8 gemm-flops/s prefill-flops/s" (the decode
    /// figures are medians over the steps), the peak RSS of each phase: decoding batch 1, decoding batch 8, the GEMM probe
    /// (the benchmark's own arrays), the prefill; the RSS of the runtime alone (.NET and libtorch, before the model is
    /// loaded); then the bound (median seconds to read the weights, scaled to the file's bytes), the mean batch-1 step, the
    /// RSS after a warm-up generation with every weight touched (the weights and the runtime as generation leaves it),
    /// and the bytes of batch 8's KV cache.
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
        long fileBytes = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        var weights = WeightRegions(model);
        double scale = (double)fileBytes / weights.Sum(w => w.Bytes);
        MachineLimits.ReadSeconds(weights); // first touch of the pages the decode steps do not read (an untied head's embeddings)
        long warm = LoadBenchmark.Status("VmRSS"), batchCache = KvCacheBytes(model, Batch, PromptTokens + NewTokens);
        PeakSinceLast();
        var reads = new List<double>();
        var steps = SecondsPerStep(model, prompts.Take(1).ToList(), () => reads.Add(MachineLimits.ReadSeconds(weights) * scale));
        // reads[i] came just before steps[i] (the last read follows the last step).
        double ofBound = Median(steps.Select((step, i) => reads[i] / step)), single = Median(steps), bound = Median(reads.Take(steps.Count));
        long singlePeak = PeakSinceLast();
        double batched = Batch / Median(SecondsPerStep(model, prompts));
        long batchPeak = PeakSinceLast();
        double gemm = GemmCeiling(model);
        long gemmPeak = PeakSinceLast();
        // The full logits are kept: the output layer runs at every position.
        double prefill = FlopCount.Pass(model.Config, 1, PromptTokens, 0, PromptTokens) / PrefillSeconds(model, prompts[0]);
        long prefillPeak = PeakSinceLast();
        Console.WriteLine($"{ofBound} {single} {batched} {gemm} {prefill} {singlePeak} {batchPeak} {gemmPeak} {prefillPeak} {runtime} {bound} {steps.Average()} {warm} {batchCache}");
        return 0;
    }

    /// <summary>
    /// Prints "flops/s page-faults peak-RSS" of a <see cref="LongPromptTokens"/>-token prompt's pass computing only the
    /// last position's logits (best of two after a warm-up pass; the faults of the best): a chat transcript or a document
    /// fed to the model, where attention's scores and the MLP's activations are the largest transient memory.
    /// </summary>
    public static int MeasureLong(string dir)
    {
        TorchRuntime.EnsureLoaded();
        using var model = LanguageModel.Load(dir);
        var random = new Random(2);
        using var ids = tensor(Enumerable.Range(0, LongPromptTokens).Select(_ => (long)random.Next(1000, 100000)).ToArray());
        var options = new ForwardOptions { LastPositionLogitsOnly = true };
        double best = double.MaxValue;
        long faults = 0;
        for (int pass = 0; pass < 3; pass++)
        {
            long before = MinorFaults();
            var clock = Stopwatch.StartNew();
            using (model.Forward(ids, options)) { }
            double seconds = clock.Elapsed.TotalSeconds;
            if (pass == 0 || seconds >= best) continue; // the first pass touches the weights and JIT-compiles
            best = seconds;
            faults = MinorFaults() - before;
        }
        Console.WriteLine($"{FlopCount.Pass(model.Config, 1, LongPromptTokens, 0, 1) / best} {faults} {LoadBenchmark.Status("VmHWM")}");
        return 0;
    }

    /// <summary>The process's minor page faults: field 10 of /proc/self/stat, the eighth after the command's closing parenthesis and state.</summary>
    static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7]);
    }

    /// <summary>The bytes of a KV cache of <paramref name="sequences"/> x <paramref name="positions"/>: keys and values of every layer's KV heads in the model's dtype.</summary>
    static long KvCacheBytes(LanguageModel model, int sequences, int positions)
    {
        var c = model.Config;
        return 2L * c.NumLayers * c.NumKeyValueHeads * c.HeadDim * sequences * positions * HugePages.ElementSize(model.DType);
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

    /// <summary>
    /// libtorch's best bf16 GEMM throughput on the prefill's largest products (MLP up and down), best of five each, with
    /// the products' outputs reused from the heap as a pass's are (<see cref="NativeHeap.ReuseBlocks"/>). Outside such a
    /// scope, whether glibc mapped each output anew (600 faults a product of the MLP's shapes, ~350 GF/s on the Zen 5 VM
    /// against 600+) depended on what the process had done before: the probe read high after a generation and low first
    /// thing.
    /// </summary>
    internal static double GemmCeiling(LanguageModel model)
    {
        var c = model.Config;
        using var reuse = NativeHeap.ReuseBlocks();
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

    /// <summary>
    /// Each decode step's seconds after the first new token (which includes the prefill), measured from one token's
    /// callback to the next; <paramref name="between"/>, if given, runs after each token, outside the steps' time.
    /// </summary>
    static List<double> SecondsPerStep(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, Action? between = null)
    {
        var clock = new Stopwatch();
        var steps = new List<double>();
        model.GenerateBatch(prompts, new GenerationOptions
        {
            MaxNewTokens = NewTokens, StopTokens = [], OnToken = t =>
            {
                if (t.Sequence != 0) return;
                if (clock.IsRunning) steps.Add(clock.Elapsed.TotalSeconds);
                between?.Invoke();
                clock.Restart();
            },
        });
        return steps;
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The model's weights where a decode step reads them (the mapped checkpoint), each tensor once (a tied head is the embeddings).</summary>
    static unsafe List<(nint Start, long Bytes)> WeightRegions(LanguageModel model) =>
        [.. model.Weights.Values.Select(w => ((nint)TensorMemory.Address(w), w.numel() * w.ElementSize)).Distinct()];
}
