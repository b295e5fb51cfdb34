using System.Diagnostics;
using System.Text.Json.Nodes;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

// Release benchmarks; they print figures and ratios, they assert nothing.
//   load [DIR]                 load time and peak RSS of a bf16 checkpoint with Llama-3.2-1B shapes
//   measure-load DIR DTYPE     (internal) one measurement in a fresh process
//   tokenize DIR [DIR ...]     encode throughput of each folder's tokenizer on 1 MB of mixed text
//   generate [DIR]             prefill and decode tokens/s, bf16 and fp32, with and without capturing residual streams
//   measure-generate DIR DTYPE CAPTURE   (internal) one measurement in a fresh process
//   neighbors [DIR]            nearest-token search over the whole 128k vocabulary of the 1B-shaped model
//   decode [DIR]               the performance goals in one run: decode against the read bandwidth, prefill against
//                              the GEMM ceiling, peak memory, a long prompt, nearest neighbours; our bf16 kernel and libtorch's
//   decode-gemma [DIR]         the same figures on Gemma-3-4B's shapes (7.8 GB; the lecture's second model), no goals
//   measure-decode DIR         (internal) one measurement in a fresh process
//   measure-long DIR           (internal) a 1,000-token prompt's pass in a fresh process
//   eager [DIR]                fp32 prefill against an HF-style PyTorch eager forward (eager_llama.py), when python3
//                              has torch; the two passes' logits are compared first
//   measure-eager DIR IDS OUT  (internal) NotebookLens's side in a fresh process
//   matvec                     the few-row bf16 products of a decode step (1B's shapes): our kernel and libtorch's
//   refusal [DIR] [--full]     the refusal experiment on Llama-3.2-3B shapes: a reduced run measured stage by stage,
//                              the default run's time extrapolated from it, against the arithmetic at the GEMM ceiling;
//                              --full also runs the default experiment end to end (20 minutes on a Zen 4 EPYC, hours without bf16 instructions)
//   goals [DIR-1B] [DIR-3B]    every goal of issue #15 in one run: decode, eager and refusal, then the goals together

// The checkpoints the benchmarks generate when no folder is given.
string oneB = Path.Combine("artifacts", "bench", "llama-3.2-1b-random"), threeB = Path.Combine("artifacts", "bench", "llama-3.2-3b-random"),
    gemma = Path.Combine("artifacts", "bench", "gemma-3-4b-random");
string Folder(int index, string generated) => args.Length > index ? args[index] : generated;
return args.FirstOrDefault() switch
{
    "matvec" => MatVecBenchmark.Run(),
    "eager" => EagerBenchmark.Run(Folder(1, oneB)),
    "measure-eager" => EagerBenchmark.Measure(args[1], args[2], args[3]),
    "decode" => DecodeBenchmark.Run(Folder(1, oneB), CheckpointShapes.Llama1B),
    "decode-gemma" => DecodeBenchmark.Run(Folder(1, gemma), CheckpointShapes.Gemma4B),
    "goals" => AllGoals(Folder(1, oneB), Folder(2, threeB)),
    "measure-decode" => DecodeBenchmark.Measure(args[1]),
    "measure-neighbors" => NeighborsBenchmark.Measure(args[1]),
    "measure-long" => DecodeBenchmark.MeasureLong(args[1]),
    "neighbors" => NeighborsBenchmark.Run(Folder(1, oneB)),
    "generate" => GenerateBenchmark.Run(Folder(1, oneB)),
    "measure-generate" => GenerateBenchmark.Measure(args[1], args[2], args[3] == "capture"),
    "tokenize" => TokenizeBenchmark.Run(args.Skip(1).ToArray()),
    "refusal" => RefusalBenchmark.Run(args.Skip(1).FirstOrDefault(a => a != "--full") ?? threeB, args.Contains("--full")),
    "load" => LoadBenchmark.Run(Folder(1, oneB)),
    "measure-load" => LoadBenchmark.Measure(args[1], args[2]),
    _ => Usage(),
};

static int AllGoals(string oneB, string threeB)
{
    int failed = 0;
    foreach (var run in new Func<int>[] { () => DecodeBenchmark.Run(oneB, CheckpointShapes.Llama1B), () => EagerBenchmark.Run(oneB), () => RefusalBenchmark.Run(threeB, full: false) })
    {
        failed |= run();
        Console.WriteLine();
    }
    Goals.PrintAll();
    return failed;
}

static int Usage()
{
    Console.Error.WriteLine("usage: NotebookLens.Benchmarks load [DIR] | tokenize DIR [DIR ...] | generate [DIR] | decode [DIR] | decode-gemma [DIR] | eager [DIR] | goals [DIR-1B] [DIR-3B] | matvec | neighbors [DIR] | refusal [DIR] [--full]");
    return 2;
}

static class LoadBenchmark
{
    public static int Run(string dir)
    {
        EnsureCheckpoint(dir);
        long fileBytes = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        Console.WriteLine($"checkpoint: {dir}, model.safetensors {fileBytes / 1e9:F2} GB (bf16, Llama-3.2-1B shapes, random weights)");
        Console.WriteLine("each row is a fresh process; the file is in the page cache (warm) after the first");
        Console.WriteLine("RSS = private (anonymous) + file-backed pages; file-backed pages of a mapped checkpoint are page cache the kernel can drop");
        Console.WriteLine($"{"dtype",-10} {"load s",8} {"RSS after load GB",18} {"peak RSS GB",12} {"peak/file",10} {"private GB",11} {"file-backed GB",15}");
        foreach (var dtype in new[] { "stored", "stored", "float32" })
        {
            var f = Child.Run("measure-load", dir, dtype);
            Console.WriteLine($"{dtype,-10} {f[0],8:F2} {f[1] / 1e9,18:F2} {f[2] / 1e9,12:F2} {f[2] / fileBytes,10:F2} {f[3] / 1e9,11:F2} {f[4] / 1e9,15:F2}");
        }
        return 0;
    }

    /// <summary>Prints "load-seconds rss-after-load peak-rss anon-rss file-rss" for one load plus a short forward pass.</summary>
    public static int Measure(string dir, string dtype)
    {
        TorchRuntime.EnsureLoaded();
        var sw = Stopwatch.StartNew();
        using var model = LanguageModel.Load(dir, new LoadOptions { DType = dtype == "stored" ? null : DTypes.ParseCompute(dtype) });
        double seconds = sw.Elapsed.TotalSeconds;
        long afterLoad = Status("VmRSS");
        using (var ids = tensor(new long[] { 128000, 791, 24149, 374, 6307, 13 }))
        using (model.Forward(ids)) { }
        Console.WriteLine($"{seconds} {afterLoad} {Status("VmHWM")} {Status("RssAnon")} {Status("RssFile")}");
        return 0;
    }

    internal static long Status(string key) => long.Parse(File.ReadLines("/proc/self/status")
        .First(l => l.StartsWith(key + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    internal static void EnsureCheckpoint(string dir) => EnsureCheckpoint(dir, CheckpointShapes.Llama1B);

    internal static void EnsureCheckpoint(string dir, CheckpointShapes shapes)
    {
        if (!File.Exists(Path.Combine(dir, "model.safetensors"))) Generate(dir, shapes);
    }

    static void Generate(string dir, CheckpointShapes s)
    {
        Console.WriteLine($"generating a random bf16 checkpoint with {s.Name} shapes in {dir} ...");
        TorchRuntime.EnsureLoaded();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), s.Config().ToJsonString());
        using var scope = NewDisposeScope();
        manual_seed(1234);
        // The float32 draws are freed one by one: only the bf16 tensors (the file's size) are held until written.
        Tensor W(params long[] shape)
        {
            using var draw = NewDisposeScope();
            return (randn(shape) * 0.02).to(ScalarType.BFloat16).MoveToOuterDisposeScope();
        }
        // A norm's weight that scales by one: Llama multiplies by the weight, Gemma by one plus the weight.
        Tensor Norm(long n) => s.Architecture == Architecture.Gemma3 ? zeros(n, dtype: ScalarType.BFloat16) : ones(n, dtype: ScalarType.BFloat16);
        var tensors = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = W(s.Vocab, s.Hidden), ["model.norm.weight"] = Norm(s.Hidden) };
        long q = s.Heads * s.HeadDim, kv = s.KeyValueHeads * s.HeadDim;
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors[p + "self_attn.q_proj.weight"] = W(q, s.Hidden);
            tensors[p + "self_attn.k_proj.weight"] = W(kv, s.Hidden);
            tensors[p + "self_attn.v_proj.weight"] = W(kv, s.Hidden);
            tensors[p + "self_attn.o_proj.weight"] = W(s.Hidden, q);
            tensors[p + "mlp.gate_proj.weight"] = W(s.Intermediate, s.Hidden);
            tensors[p + "mlp.up_proj.weight"] = W(s.Intermediate, s.Hidden);
            tensors[p + "mlp.down_proj.weight"] = W(s.Hidden, s.Intermediate);
            tensors[p + "input_layernorm.weight"] = Norm(s.Hidden);
            tensors[p + "post_attention_layernorm.weight"] = Norm(s.Hidden);
            if (s.Architecture != Architecture.Gemma3) continue;
            tensors[p + "pre_feedforward_layernorm.weight"] = Norm(s.Hidden);
            tensors[p + "post_feedforward_layernorm.weight"] = Norm(s.Hidden);
            tensors[p + "self_attn.q_norm.weight"] = Norm(s.HeadDim);
            tensors[p + "self_attn.k_norm.weight"] = Norm(s.HeadDim);
        }
        // Moved into place once whole: a run stopped while writing leaves no checkpoint that looks complete.
        var file = Path.Combine(dir, "model.safetensors");
        SafeTensorsWriter.Write(file + ".partial", tensors);
        File.Move(file + ".partial", file, overwrite: true);
    }
}

enum Architecture { Llama, Gemma3 }

/// <summary>
/// The shapes of a checkpoint the benchmarks generate with random weights and tied embeddings: Llama 3.2's (128k
/// vocabulary) or Gemma 3's text model (262k vocabulary, five sliding-window layers to one global, q/k norms).
/// </summary>
sealed record CheckpointShapes(string Name, Architecture Architecture, int Hidden, int Intermediate, int Layers, int Heads, int KeyValueHeads, int HeadDim, int Vocab)
{
    public static CheckpointShapes Llama1B { get; } = new("Llama-3.2-1B", Architecture.Llama, 2048, 8192, 16, 32, 8, 64, 128256);
    public static CheckpointShapes Llama3B { get; } = new("Llama-3.2-3B", Architecture.Llama, 3072, 8192, 28, 24, 8, 128, 128256);
    /// <summary>Gemma-3-4B-it's language model (its vision tower is not part of a text checkpoint).</summary>
    public static CheckpointShapes Gemma4B { get; } = new("Gemma-3-4B", Architecture.Gemma3, 2560, 10240, 34, 8, 4, 256, 262208);

    /// <summary>The checkpoint's config.json as Hugging Face writes it for these shapes.</summary>
    public JsonObject Config()
    {
        var config = new JsonObject
        {
            ["hidden_size"] = Hidden, ["intermediate_size"] = Intermediate, ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KeyValueHeads, ["head_dim"] = HeadDim,
            ["vocab_size"] = Vocab, ["max_position_embeddings"] = 131072, ["torch_dtype"] = "bfloat16",
        };
        var own = Architecture == Architecture.Gemma3 ? new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForCausalLM"), ["model_type"] = "gemma3_text", ["rms_norm_eps"] = 1e-6,
            ["hidden_activation"] = "gelu_pytorch_tanh", ["query_pre_attn_scalar"] = 256, ["rope_theta"] = 1000000.0,
            ["rope_local_base_freq"] = 10000.0, ["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0 },
            ["sliding_window"] = 1024, ["sliding_window_pattern"] = 6,
            ["layer_types"] = new JsonArray([.. Enumerable.Range(1, Layers).Select(l => (JsonNode)(l % 6 == 0 ? "full_attention" : "sliding_attention"))]),
            ["bos_token_id"] = 2, ["eos_token_id"] = new JsonArray(1, 106), ["pad_token_id"] = 0,
        } : new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0, ["tie_word_embeddings"] = true, ["hidden_act"] = "silu", ["bos_token_id"] = 128000,
            ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
            ["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = 32.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
                ["original_max_position_embeddings"] = 8192,
            },
        };
        foreach (var (key, value) in own.ToList())
        {
            own.Remove(key);
            config[key] = value;
        }
        return config;
    }
}

static class TokenizeBenchmark
{
    public static int Run(string[] folders)
    {
        var text = MixedText(1 << 20);
        int bytes = System.Text.Encoding.UTF8.GetByteCount(text);
        Console.WriteLine($"text: {bytes / 1e6:F2} MB of English prose, Chinese, code and emoji (UTF-8), one string");
        Console.WriteLine($"{"tokenizer",-40} {"load s",7} {"tokens",9} {"encode s",9} {"MB/s",7} {"decode s",9}");
        foreach (var folder in folders)
        {
            var sw = Stopwatch.StartNew();
            var tokenizer = NotebookLens.Tokenization.HfTokenizer.Load(folder);
            double load = sw.Elapsed.TotalSeconds;
            tokenizer.Encode("warm up the caches and the JIT: The apple is green. 今天天氣真好");
            sw.Restart();
            var ids = tokenizer.Encode(text);
            double encode = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var back = tokenizer.Decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false);
            double decode = sw.Elapsed.TotalSeconds;
            if (back != text) Console.WriteLine("  warning: decode(encode(text)) != text");
            Console.WriteLine($"{Path.GetFileName(Path.GetFullPath(folder)),-40} {load,7:F2} {ids.Count,9} {encode,9:F3} {bytes / 1e6 / encode,7:F1} {decode,9:F3}");
        }
        return 0;
    }

    /// <summary>Deterministic text: paragraphs of English, Chinese, Python and emoji in turn.</summary>
    static string MixedText(int targetChars)
    {
        string[] parts =
        [
            "The weather forecast says it will rain tomorrow, so take an umbrella. Apples are green or red; Apple makes iPhones in Cupertino. ",
            "今天天氣真好，我們去公園散步吧。天氣預報說明天會下雨，記得帶傘。大家好！ ",
            "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)  # 🐍 1234567\n",
            "Emoji 🍎🍏 and 👨‍👩‍👧 families, numbers 3.14159 and 2026-11-28, URLs https://example.org/a?b=c.\n\n",
        ];
        var sb = new System.Text.StringBuilder(targetChars + 256);
        var random = new Random(42);
        while (sb.Length < targetChars) sb.Append(parts[random.Next(parts.Length)]);
        return sb.ToString();
    }
}

/// <summary>Runs this program again for one measurement, so each figure starts from a fresh process.</summary>
static class Child
{
    public static double[] Run(params string[] args) => Run([], args);

    /// <summary>The same, with extra environment variables for the child.</summary>
    public static double[] Run(Dictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        if (Path.GetFileName(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(Child).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadToEnd().Trim().Split('\n').Last();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"measurement {string.Join(" ", args)} failed: {line}");
        return line.Split(' ').Select(double.Parse).ToArray();
    }
}

/// <summary>
/// The random checkpoints have no tokenizer: the fixtures' real ones stand in, with the same ids (Llama 3's 128,256;
/// Gemma 3's 262,145 of its 262,208 rows). Fetched by build/fetch-tokenizers.sh, not committed.
/// </summary>
static class FixtureTokenizer
{
    public static NotebookLens.Tokenization.HfTokenizer Llama3() => Load("llama3-tiny");

    /// <summary>Gemma 3's for a Gemma 3 checkpoint, else Llama 3's.</summary>
    public static NotebookLens.Tokenization.HfTokenizer For(ModelConfig config) => config.ModelType.StartsWith("gemma", StringComparison.Ordinal) ? Load("gemma3-tiny") : Llama3();

    static NotebookLens.Tokenization.HfTokenizer Load(string fixture)
    {
        var folder = Path.Combine("tests", "fixtures", fixture);
        if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
            throw new InvalidOperationException($"The tokenizer is not in {folder}: run build/fetch-tokenizers.sh first.");
        return NotebookLens.Tokenization.HfTokenizer.Load(folder);
    }
}

static class GenerateBenchmark
{
    const int PromptTokens = 128, NewTokens = 32;

    public static int Run(string dir)
    {
        LoadBenchmark.EnsureCheckpoint(dir);
        Console.WriteLine($"Llama-3.2-1B shapes, random bf16 weights ({dir}); prompt {PromptTokens} tokens, {NewTokens} new tokens, greedy, KV cache; fresh process per row");
        Console.WriteLine("capture = every blocks.{i}.hook_resid_post kept (prefill: one ActivationCache; decode: a copy per step)");
        Console.WriteLine($"{"dtype",-9} {"capture",-8} {"prefill tok/s",14} {"decode tok/s",13} {"peak RSS GB",12} {"private GB",11}");
        var rows = new List<(string, string, double[])>();
        foreach (var dtype in new[] { "bfloat16", "float32" })
            foreach (var capture in new[] { "none", "capture" })
            {
                var f = Child.Run("measure-generate", dir, dtype, capture);
                rows.Add((dtype, capture, f));
                Console.WriteLine($"{dtype,-9} {capture,-8} {f[0],14:F1} {f[1],13:F2} {f[2] / 1e9,12:F2} {f[3] / 1e9,11:F2}");
            }
        Console.WriteLine($"bf16 / fp32 speed-up: prefill {rows[0].Item3[0] / rows[2].Item3[0]:F2}x, decode {rows[0].Item3[1] / rows[2].Item3[1]:F2}x");
        Console.WriteLine($"capture cost (bf16): prefill {rows[1].Item3[0] / rows[0].Item3[0]:F2}x, decode {rows[1].Item3[1] / rows[0].Item3[1]:F2}x of the plain speed");
        return 0;
    }

    /// <summary>Prints "prefill-tok/s decode-tok/s peak-rss anon-rss".</summary>
    public static int Measure(string dir, string dtype, bool capture)
    {
        TorchRuntime.EnsureLoaded();
        using var model = LanguageModel.Load(dir, new LoadOptions { DType = DTypes.ParseCompute(dtype) });
        var random = new Random(1);
        var prompt = Enumerable.Range(0, PromptTokens).Select(_ => random.Next(1000, 100000)).ToList();
        var names = Enumerable.Range(0, model.Config.NumLayers).Select(HookPoints.ResidPost).ToHashSet();
        using (var warm = tensor(prompt.Take(8).Select(i => (long)i).ToArray())) using (model.Forward(warm)) { }

        var sw = Stopwatch.StartNew();
        using (var ids = tensor(prompt.Select(i => (long)i).ToArray()))
        {
            if (capture)
            {
                var (result, cache) = NotebookLens.Inspection.ActivationCacheExtensions.RunWithCache(model, ids, new NotebookLens.Inspection.CacheOptions { Filter = names.Contains });
                result.Dispose();
                cache.Dispose();
            }
            else using (model.Forward(ids)) { }
        }
        double prefill = PromptTokens / sw.Elapsed.TotalSeconds;

        var kept = new List<Tensor>();
        var hooks = capture
            ? new HookSet().Add(names.Contains, (x, _) => { kept.Add(x.detach().clone().DetachFromDisposeScope()); return null; })
            : null;
        // Decode speed from the time between the first and the last new token (the first one includes the prefill).
        var stamps = new List<double>();
        sw.Restart();
        var options = new NotebookLens.Generation.GenerationOptions
        {
            MaxNewTokens = NewTokens, StopTokens = [], Hooks = hooks, OnToken = _ => stamps.Add(sw.Elapsed.TotalSeconds),
        };
        NotebookLens.Generation.TextGeneration.Generate(model, prompt, options);
        double decode = (NewTokens - 1) / (stamps[^1] - stamps[0]);
        foreach (var t in kept) t.Dispose();
        Console.WriteLine($"{prefill} {decode} {LoadBenchmark.Status("VmHWM")} {LoadBenchmark.Status("RssAnon")}");
        return 0;
    }
}

static class NeighborsBenchmark
{
    const int Queries = 5;

    public static int Run(string dir)
    {
        LoadBenchmark.EnsureCheckpoint(dir);
        var f = Child.Run("measure-neighbors", dir);
        Console.WriteLine($"vocabulary {f[0]:F0} x {f[1]:F0}: norms {f[2]:F2} s once, then {f[3] * 1000:F0} ms per nearest-neighbour query");
        return 0;
    }

    /// <summary>Prints "vocabulary hidden setup-seconds seconds-per-query" for the checkpoint's bf16 table.</summary>
    public static int Measure(string dir)
    {
        TorchRuntime.EnsureLoaded();
        var model = LanguageModel.Load(dir);
        using var lens = new NotebookLens.LensModel(model, FixtureTokenizer.For(model.Config));
        var sw = Stopwatch.StartNew();
        using var space = new NotebookLens.Inspection.EmbeddingSpace(lens);
        double setup = sw.Elapsed.TotalSeconds;
        using (var warm = space.Vector(999)) space.Nearest(warm, 10);
        sw.Restart();
        for (int q = 0; q < Queries; q++)
        {
            using var v = space.Vector(1000 + q);
            space.Nearest(v, 10);
        }
        Console.WriteLine($"{lens.Model.Embeddings.shape[0]} {lens.Model.Embeddings.shape[1]} {setup} {sw.Elapsed.TotalSeconds / Queries}");
        return 0;
    }
}
