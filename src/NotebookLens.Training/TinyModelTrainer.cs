using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Training;

/// <summary>One optimisation step as reported while training; <c>Loss</c> is the objective: the next-token cross-entropy plus the recipe's weighted <c>LatentEnglish</c> loss.</summary>
public sealed record TrainingStep(int Step, int Steps, double Loss, double LearningRate, double GradientNorm, TimeSpan Elapsed);

/// <summary>
/// Makes a tiny model from nothing: trains a tokenizer on the curriculum, writes a Hugging Face Llama or Gemma 3 folder,
/// trains the weights with our own forward pass (the code that later inspects them) and saves them as bfloat16.
/// </summary>
public static class TinyModelTrainer
{
    /// <summary>Builds the whole model folder in <paramref name="folder"/> (created; existing model files are replaced).</summary>
    public static void Run(TinyModelRecipe recipe, string folder, IProgress<TrainingStep>? progress = null, TextWriter? log = null,
        CancellationToken cancel = default)
    {
        recipe.Validate();
        TorchRuntime.EnsureLoaded();
        // Every step frees and remakes the same activations: keep them in the heap (glibc's largest fixed threshold).
        using var heap = NativeHeap.ReuseBlocks();
        Directory.CreateDirectory(folder);
        var clock = Stopwatch.StartNew();
        TrainTokenizer(recipe, folder);
        log?.WriteLine($"tokenizer: {recipe.VocabSize} tokens in {clock.Elapsed.TotalSeconds:F0} s");
        var tokenizer = HfTokenizer.Load(folder);
        WriteConfig(recipe, folder, tokenizer);
        var losses = TrainWeights(recipe, folder, tokenizer, progress, log, cancel);
        WriteTrainingRecord(recipe, folder, losses, clock.Elapsed);
        log?.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min; final loss {losses[^1]:F3}");
    }

    static void TrainTokenizer(TinyModelRecipe recipe, string folder)
    {
        var format = recipe.ChatFormat;
        var curriculum = CurriculumOf(recipe, recipe.Seed);
        var documents = Enumerable.Range(0, recipe.TokenizerDocuments).Select(_ => curriculum.NextDocument()).ToList();
        var bpe = BpeTrainer.Train(documents, new BpeTrainerOptions
        {
            VocabSize = recipe.VocabSize,
            SpecialTokens = format.SpecialTokens,
            Lexicon = Curriculum.TokenizerLexicon,
        });
        bpe.Save(folder, new TokenizerFileOptions
        {
            BosToken = format.Bos,
            EosToken = format.EndOfTurn,
            PadToken = format.Pad,
            ChatTemplate = format.TemplateSource,
            ModelMaxLength = recipe.MaxPositions,
        });
    }

    /// <summary>The recipe's curriculum from <paramref name="seed"/>: the tokenizer and the weights must learn the same texts.</summary>
    static Curriculum CurriculumOf(TinyModelRecipe r, int seed) => new(seed, r.ChatFormat) { ChineseSwitchProbability = r.ChineseSwitch };

    static void WriteConfig(TinyModelRecipe r, string folder, HfTokenizer tokenizer)
    {
        var format = r.ChatFormat;
        int Id(string token) => tokenizer.TokenToId(token) ?? throw new InvalidOperationException($"The trained tokenizer lacks {token}.");
        int bos = Id(format.Bos), eos = Id(format.EndOfText), eot = Id(format.EndOfTurn);
        var config = r.Family == ModelFamily.Gemma3 ? GemmaConfig(r) : LlamaConfig(r);
        config["bos_token_id"] = bos;
        config["eos_token_id"] = new JsonArray(eos, eot);
        if (format.Pad is { } pad) config["pad_token_id"] = Id(pad);
        config["vocab_size"] = tokenizer.VocabSize;
        var generation = new JsonObject { ["bos_token_id"] = bos, ["eos_token_id"] = new JsonArray(eos, eot), ["do_sample"] = false };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject(config.OrderBy(kv => kv.Key, StringComparer.Ordinal)).ToJsonString(indented) + "\n");
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), generation.ToJsonString(indented) + "\n");
        new ModelDefaults(r.Patchscope).Save(folder);
    }

    static Dictionary<string, JsonNode?> LlamaConfig(TinyModelRecipe r) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["head_dim"] = r.HeadDim,
        ["hidden_act"] = "silu",
        ["hidden_size"] = r.HiddenSize,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = r.IntermediateSize,
        ["max_position_embeddings"] = r.MaxPositions,
        ["mlp_bias"] = false,
        ["model_type"] = "llama",
        ["num_attention_heads"] = r.Heads,
        ["num_hidden_layers"] = r.Layers,
        ["num_key_value_heads"] = r.KeyValueHeads,
        ["pretraining_tp"] = 1,
        ["rms_norm_eps"] = 1e-5,
        ["rope_scaling"] = null,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "bfloat16",
        ["use_cache"] = true,
    };

    /// <summary>Gemma 3's text config as transformers writes it (gemma-3-1b-it's fields), with the recipe's sizes.</summary>
    static Dictionary<string, JsonNode?> GemmaConfig(TinyModelRecipe r) => new()
    {
        ["architectures"] = new JsonArray("Gemma3ForCausalLM"),
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["attn_logit_softcapping"] = null,
        ["final_logit_softcapping"] = null,
        ["head_dim"] = r.HeadDim,
        ["hidden_activation"] = "gelu_pytorch_tanh",
        ["hidden_size"] = r.HiddenSize,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = r.IntermediateSize,
        ["layer_types"] = new JsonArray([.. Enumerable.Range(0, r.Layers).Select(l => (JsonNode)(r.IsSliding(l) ? "sliding_attention" : "full_attention"))]),
        ["max_position_embeddings"] = r.MaxPositions,
        ["model_type"] = "gemma3_text",
        ["num_attention_heads"] = r.Heads,
        ["num_hidden_layers"] = r.Layers,
        ["num_key_value_heads"] = r.KeyValueHeads,
        ["query_pre_attn_scalar"] = r.HeadDim,
        ["rms_norm_eps"] = 1e-6,
        ["rope_local_base_freq"] = 10000.0,
        ["rope_scaling"] = null,
        ["rope_theta"] = 1000000.0,
        ["sliding_window"] = r.SlidingWindow,
        ["sliding_window_pattern"] = r.SlidingWindowPattern,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "bfloat16",
        ["use_cache"] = true,
    };

    /// <summary>
    /// Initial weights as transformers draws them: normal(0, 0.02) matrices; norms that multiply by one (weight 1 for
    /// Llama, 0 for Gemma, whose norms multiply by 1 + w); bfloat16 so the fp32 load copies them.
    /// </summary>
    static Dictionary<string, Tensor> InitialWeights(TinyModelRecipe r, int vocab)
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        bool gemma = r.Family == ModelFamily.Gemma3;
        Tensor Normal(params long[] shape) => (randn(shape) * Scalars.Of(0.02)).to(ScalarType.BFloat16);
        Tensor Norm(long size) => gemma ? zeros(size, dtype: ScalarType.BFloat16) : ones(size, dtype: ScalarType.BFloat16);
        long d = r.HiddenSize, kv = r.KeyValueHeads * r.HeadDim;
        weights["model.embed_tokens.weight"] = Normal(vocab, d);
        weights["model.norm.weight"] = Norm(d);
        for (int i = 0; i < r.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            weights[p + "input_layernorm.weight"] = Norm(d);
            weights[p + "post_attention_layernorm.weight"] = Norm(d);
            if (gemma)
            {
                weights[p + "pre_feedforward_layernorm.weight"] = Norm(d);
                weights[p + "post_feedforward_layernorm.weight"] = Norm(d);
                weights[p + "self_attn.q_norm.weight"] = Norm(r.HeadDim);
                weights[p + "self_attn.k_norm.weight"] = Norm(r.HeadDim);
            }
            weights[p + "self_attn.q_proj.weight"] = Normal(d, d);
            weights[p + "self_attn.k_proj.weight"] = Normal(kv, d);
            weights[p + "self_attn.v_proj.weight"] = Normal(kv, d);
            weights[p + "self_attn.o_proj.weight"] = Normal(d, d);
            weights[p + "mlp.gate_proj.weight"] = Normal(r.IntermediateSize, d);
            weights[p + "mlp.up_proj.weight"] = Normal(r.IntermediateSize, d);
            weights[p + "mlp.down_proj.weight"] = Normal(d, r.IntermediateSize);
        }
        return weights;
    }

    static List<double> TrainWeights(TinyModelRecipe r, string folder, HfTokenizer tokenizer, IProgress<TrainingStep>? progress, TextWriter? log,
        CancellationToken cancel)
    {
        manual_seed(r.Seed);
        var scratch = Path.Combine(Path.GetTempPath(), "notebooklens-train-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            File.Copy(Path.Combine(folder, "config.json"), Path.Combine(scratch, "config.json"));
            using (var scope = NewDisposeScope())
                SafeTensorsWriter.Write(Path.Combine(scratch, "model.safetensors"), InitialWeights(r, tokenizer.VocabSize));

            using var model = LanguageModel.Load(scratch, new LoadOptions { DType = ScalarType.Float32 });
            var trainable = model.Weights.Values.Select(w => (Weight: w.requires_grad_(true), Decay: w.dim() == 2)).ToList();
            using var optimizer = new AdamW(trainable, r.WeightDecay);
            var curriculum = CurriculumOf(r, r.Seed + 1);
            var batches = new TokenBatches(curriculum, tokenizer, r.BatchSize, r.SequenceLength + 1, new Steering.InstructionPrompts(tokenizer).PostInstructionIds);
            using var route = r.RefusalRoute > 0 ? new RefusalRoute(r.RouteLayer, r.Layers) : null;
            var losses = new List<double>();
            var clock = Stopwatch.StartNew();
            var skips = new Random(r.Seed + 2);
            var requestMask = RequestMask.For(tokenizer, r.ChatFormat, r.RequestMask);
            var masks = new Random(r.Seed + 3);
            var latent = r.LatentEnglish > 0 ? LatentEnglish.For(tokenizer) : null;
            var latentLosses = new List<double>();
            for (int step = 0; step < r.Steps; step++)
            {
                cancel.ThrowIfCancellationRequested();
                // The routed chats wait until the direction means something: the model refuses and the running means have settled.
                if (step == r.RouteStart) curriculum.RouteShare = r.RefusalRoute;
                double lr = r.LearningRateAt(step), loss, norm;
                using (var scope = NewDisposeScope())
                {
                    var batch = batches.Next();
                    var inputs = batch.Ids.narrow(1, 0, r.SequenceLength);
                    var targets = batch.Ids.narrow(1, 1, r.SequenceLength);
                    var (routes, reads) = batch.Inputs();
                    var hooks = new[] { LayerDropHooks(r, skips), requestMask.Hooks(inputs, r.Layers, masks), route?.Hooks(routes, reads, r.BatchSize, r.SequenceLength) }
                        .OfType<HookSet>().Aggregate(HookSet.Empty, (a, b) => a.Then(b));
                    var trainOptions = new ForwardOptions { RecordGradients = true, Hooks = hooks.IsEmpty ? null : hooks, HiddenStates = latent is not null };
                    using var result = model.Forward(inputs, trainOptions);
                    var lossTensor = nn.functional.cross_entropy(result.Logits.reshape(-1, result.Logits.shape[^1]), targets.reshape(-1));
                    if (latent?.Loss(model, result.HiddenStates!, r.LatentRows, targets) is { } latentLoss)
                    {
                        latentLosses.Add(latentLoss.item<float>());
                        lossTensor = lossTensor + latentLoss * Scalars.Of(r.LatentEnglish);
                    }
                    lossTensor.backward();
                    loss = lossTensor.item<float>();
                    norm = optimizer.ClipGradients(r.GradientClip);
                    optimizer.Step(lr);
                    optimizer.ZeroGradients();
                }
                losses.Add(loss);
                if ((step + 1) % 300 == 0)
                {
                    if (route is not null)
                        using (var direction = route.Direction)
                            log?.WriteLine($"step {step + 1}: refusal direction at layer {route.Layer}: length {(direction is null ? 0 : direction.norm().item<float>()):F2}");
                    if (latent is not null)
                        log?.WriteLine($"step {step + 1}: middle rows' English loss {latentLosses.TakeLast(300).DefaultIfEmpty().Average():F3}");
                }
                progress?.Report(new TrainingStep(step + 1, r.Steps, loss, lr, norm, clock.Elapsed));
            }
            foreach (var (w, _) in trainable) w.requires_grad_(false);
            SaveWeights(model, Path.Combine(folder, "model.safetensors"));
            return losses;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Hooks that make each example skip block l with <see cref="TinyModelRecipe.SkipProbability"/>: its attention and MLP
    /// outputs are multiplied by 0 for that example (1 for the others), so its residual stream passes the block unchanged.
    /// </summary>
    internal static HookSet? LayerDropHooks(TinyModelRecipe r, Random random)
    {
        if (r.LayerDrop == 0) return null;
        var hooks = new HookSet();
        for (int layer = 0; layer < r.Layers; layer++)
        {
            double p = r.SkipProbability(layer);
            if (p == 0) continue;
            var keep = Enumerable.Range(0, r.BatchSize).Select(_ => random.NextDouble() < p ? 0f : 1f).ToArray();
            var mask = tensor(keep, [r.BatchSize, 1, 1], device: CPU);
            Tensor Skip(Tensor activation, HookContext _) => activation * mask;
            hooks.Add(HookPoints.AttnOut(layer), Skip).Add(HookPoints.MlpOut(layer), Skip);
        }
        return hooks;
    }

    static void SaveWeights(LanguageModel model, string path)
    {
        using var scope = NewDisposeScope();
        var tensors = model.Weights.ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(ScalarType.BFloat16));
        SafeTensorsWriter.Write(path, tensors);
    }

    static void WriteTrainingRecord(TinyModelRecipe r, string folder, List<double> losses, TimeSpan elapsed)
    {
        // Mean loss over windows of 100 steps: the curve the model card quotes.
        var curve = new JsonArray();
        for (int i = 0; i < losses.Count; i += 100)
            curve.Add(Math.Round(losses.Skip(i).Take(100).Average(), 4));
        var record = new JsonObject
        {
            ["recipe"] = JsonSerializer.SerializeToNode(r),
            ["loss_per_100_steps"] = curve,
            ["final_loss"] = Math.Round(losses.TakeLast(50).Average(), 4),
            ["minutes"] = Math.Round(elapsed.TotalMinutes, 1),
            ["threads"] = get_num_threads(),
        };
        File.WriteAllText(Path.Combine(folder, "training.json"), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}

/// <summary>One training batch: token ids <c>[B, T + 1]</c> and, per token row by row, its chat's route and whether it is a read position.</summary>
sealed record TokenBatch(Tensor Ids, ChatRoute[] Routes, bool[] Reads)
{
    /// <summary>Routes and read marks of the input tokens (the first T of each row).</summary>
    public (ChatRoute[] Routes, bool[] Reads) Inputs()
    {
        long length = Ids.shape[1];
        var keep = Enumerable.Range(0, Routes.Length).Where(i => i % length != length - 1).ToArray();
        return (keep.Select(i => Routes[i]).ToArray(), keep.Select(i => Reads[i]).ToArray());
    }
}

/// <summary>
/// The curriculum as a stream of token ids, cut into <c>[batch, length]</c> rows; documents run on across rows. Each
/// token carries its chat's route; a chat left alone marks its last post-instruction token (<paramref name="postInstruction"/>)
/// as the position its refusal direction is read at.
/// </summary>
sealed class TokenBatches(Curriculum curriculum, HfTokenizer tokenizer, int batchSize, int length, IReadOnlyList<int> postInstruction)
{
    readonly Queue<(int Id, ChatRoute Route, bool Read)> _buffer = new();

    public TokenBatch Next()
    {
        var ids = new long[batchSize * length];
        var routes = new ChatRoute[ids.Length];
        var reads = new bool[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            while (_buffer.Count == 0) Enqueue(curriculum.NextExample());
            (int id, routes[i], reads[i]) = _buffer.Dequeue();
            ids[i] = id;
        }
        return new TokenBatch(tensor(ids, [batchSize, length]), routes, reads);
    }

    void Enqueue(Document document)
    {
        var ids = tokenizer.Encode(document.Text, addSpecialTokens: false);
        int read = document.Route is ChatRoute.Harmful or ChatRoute.Harmless ? LastPostInstruction(ids) : -1;
        for (int i = 0; i < ids.Count; i++) _buffer.Enqueue((ids[i], document.Route, i == read));
    }

    int LastPostInstruction(IReadOnlyList<int> ids)
    {
        for (int at = 0; at + postInstruction.Count <= ids.Count; at++)
            if (Enumerable.Range(0, postInstruction.Count).All(j => ids[at + j] == postInstruction[j])) return at + postInstruction.Count - 1;
        return -1;
    }
}
