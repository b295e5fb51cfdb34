using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Loading;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>How to load a model: compute dtype (null keeps the stored dtype), device, and for a hub id the cache and a download's progress.</summary>
public sealed record LoadOptions
{
    /// <summary>Weights and compute in this dtype; null keeps the checkpoint's dtype (memory-mapped, no copy).</summary>
    public ScalarType? DType { get; init; }

    /// <summary><c>cpu</c> (default) or <c>cuda</c>, <c>cuda:1</c>, ...</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>For a hub id: the cache and hub settings; null reads them from the environment (<see cref="HubOptions.FromEnvironment()"/>).</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>For a hub id that is not in the cache yet: told how the download goes.</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }

    public static LoadOptions Default { get; } = new();
}

/// <summary>A parameter as the lecture lists it: Hugging Face name, shape, dtype, and whether it is in memory.</summary>
public sealed record ModelParameter(string Name, long[] Shape, ScalarType DType, bool Loaded)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A decoder-only language model loaded from a Hugging Face folder. The forward pass is our own code,
/// layer by layer, so every intermediate activation is reachable.
/// </summary>
public abstract class LanguageModel : IDisposable
{
    readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);
    readonly List<DecoderBlock> _blocks = [];
    RotaryEmbedding _rope = null!;
    RotaryEmbedding? _localRope;
    bool _disposed;

    protected LanguageModel(Checkpoint checkpoint, LoadOptions options)
    {
        Checkpoint = checkpoint;
        Config = checkpoint.Config;
        Device = new Device(options.Device);
        var stored = checkpoint.Info(checkpoint.TextPrefix + "embed_tokens.weight").DType;
        DType = options.DType ?? (SafeTensorsDType.TryGetScalarType(stored, out var t) && is_floating_point(t) ? t
            : throw new NotSupportedException($"The embedding table is stored as {stored}; pass a dtype (float32 or bfloat16) to load this model."));
    }

    public ModelConfig Config { get; }

    public Checkpoint Checkpoint { get; }

    /// <summary>The dtype of the weights and of the computation.</summary>
    public ScalarType DType { get; }

    public Device Device { get; }

    public IReadOnlyList<DecoderBlock> Blocks => _blocks;

    public RmsNorm FinalNorm { get; private set; } = null!;

    /// <summary>The input embedding table <c>[V, D]</c>. Owned by the model: do not dispose.</summary>
    public Tensor Embeddings { get; private set; } = null!;

    /// <summary>The unembedding <c>[V, D]</c>; the same tensor as <see cref="Embeddings"/> when tied. Owned by the model.</summary>
    public Tensor LmHead { get; private set; } = null!;

    public bool TiedEmbeddings => ReferenceEquals(Embeddings, LmHead);

    /// <summary>
    /// Points the LM head at its own tensor (null: back at the embedding table), so an edit of the embedding table
    /// does not reach the unembedding. The caller owns <paramref name="head"/> and keeps it alive while it is in use.
    /// </summary>
    internal void OverrideLmHead(Tensor? head)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        LmHead = head ?? Embeddings;
    }

    /// <summary>Ids that end generation: config.json's <c>eos_token_id</c> and generation_config.json's.</summary>
    public IReadOnlyList<int> StopTokenIds { get; private set; } = [];

    /// <summary>
    /// Loads the text decoder of a Hugging Face model folder, or of a hub id (<c>org/name[@revision]</c>) found in
    /// or downloaded to the Hugging Face cache (<see cref="ModelLocator"/>).
    /// </summary>
    public static LanguageModel Load(string folderOrHubId, LoadOptions? options = null)
    {
        TorchRuntime.EnsureLoaded();
        options ??= LoadOptions.Default;
        var checkpoint = Checkpoint.Open(ModelLocator.Resolve(folderOrHubId, ModelParts.Weights, options.Hub, options.DownloadProgress));
        try
        {
            LanguageModel model = checkpoint.Config.Family switch
            {
                ModelFamily.Llama => new LlamaModel(checkpoint, options),
                ModelFamily.Gemma3 => new Gemma3Model(checkpoint, options),
                _ => throw new NotSupportedException($"Model family {checkpoint.Config.Family} is not implemented."),
            };
            model.Build();
            return model;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    void Build()
    {
        try
        {
            var c = Config;
            CheckMemory();
            Embeddings = Weight("embed_tokens.weight", c.VocabSize, c.HiddenSize);
            for (int i = 0; i < c.NumLayers; i++) _blocks.Add(BuildBlock(i));
            FinalNorm = Norm("norm.weight", c.HiddenSize);
            if (c.TieWordEmbeddings) LmHead = Embeddings;
            else if (Checkpoint.LmHeadName is { } head) LmHead = Load(head, c.VocabSize, c.HiddenSize);
            else throw new InvalidDataException(
                $"{Checkpoint.Folder}: config.json says tie_word_embeddings is false but the checkpoint has no lm_head.weight.");
            _rope = new RotaryEmbedding(c.Rope, c.HeadDim);
            if (c.LocalRope is { } local) _localRope = new RotaryEmbedding(local, c.HeadDim);
            StopTokenIds = c.EosTokenIds.Concat(GenerationConfigEos(Checkpoint.Folder)).Distinct().ToList();
            // Weights kept in the stored dtype hold their mapping; converted ones need none, so the file leaves our RSS.
            Checkpoint.ReleaseMappings();
        }
        catch
        {
            DisposeTensors();
            throw;
        }
    }

    protected abstract DecoderBlock BuildBlock(int layer);

    /// <summary>Weights kept in their stored dtype are views of the mapped file; converted ones need new memory.</summary>
    void CheckMemory()
    {
        long converted = Checkpoint.Tensors
            .Where(t => t.Name.StartsWith(Checkpoint.TextPrefix, StringComparison.Ordinal) || t.Name == Checkpoint.LmHeadName)
            .Where(t => !SafeTensorsDType.TryGetScalarType(t.DType, out var stored) || stored != DType || Device.type != DeviceType.CPU)
            .Sum(t => t.ElementCount * ElementSize(DType));
        if (Device.type == DeviceType.CPU)
            MemoryCheck.Require(converted, MemoryCheck.AvailableBytes(), $"Loading {Checkpoint.Folder} as {DTypes.Name(DType)}",
                "Load it in its stored dtype (no copy: the weights are mapped from the file), a smaller dtype such as bfloat16, or a smaller model.");
    }

    static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static IEnumerable<int> GenerationConfigEos(string folder)
    {
        var path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return [];
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?["eos_token_id"];
            return node switch
            {
                System.Text.Json.Nodes.JsonArray a => a.Select(x => (int)x!.GetValue<double>()).ToList(),
                System.Text.Json.Nodes.JsonValue v => [(int)v.GetValue<double>()],
                _ => [],
            };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>The scalar the embedding output is multiplied by (Gemma: <c>sqrt(hidden_size)</c>), or null.</summary>
    protected virtual double? EmbeddingScale => null;

    /// <summary>Whether norms multiply by <c>1 + w</c> (Gemma) instead of <c>w</c>.</summary>
    protected abstract bool OffsetNorms { get; }

    /// <summary>Loads a text-decoder weight by its name under the text prefix, checking its shape.</summary>
    protected Tensor Weight(string name, params long[] shape) => Load(Checkpoint.TextPrefix + name, shape);

    /// <summary>An RMSNorm over <paramref name="size"/> features (hidden size, or head_dim for q/k norms).</summary>
    protected RmsNorm Norm(string name, long size) => new(Weight(name, size), Config.RmsNormEps, OffsetNorms);

    protected Linear Linear(string name, long outFeatures, long inFeatures, bool bias) =>
        new(Weight(name + ".weight", outFeatures, inFeatures), bias ? Weight(name + ".bias", outFeatures) : null);

    protected Attention Attention(int layer, bool qkNorm, double? softcap)
    {
        var c = Config;
        string p = $"layers.{layer}.self_attn.";
        return new Attention
        {
            Layer = layer,
            Names = new LayerHookNames(layer),
            Q = Linear(p + "q_proj", c.NumHeads * c.HeadDim, c.HiddenSize, c.AttentionBias),
            K = Linear(p + "k_proj", c.NumKeyValueHeads * c.HeadDim, c.HiddenSize, c.AttentionBias),
            V = Linear(p + "v_proj", c.NumKeyValueHeads * c.HeadDim, c.HiddenSize, c.AttentionBias),
            O = Linear(p + "o_proj", c.HiddenSize, c.NumHeads * c.HeadDim, c.AttentionBias),
            QNorm = qkNorm ? Norm(p + "q_norm.weight", c.HeadDim) : null,
            KNorm = qkNorm ? Norm(p + "k_norm.weight", c.HeadDim) : null,
            NumHeads = c.NumHeads,
            NumKeyValueHeads = c.NumKeyValueHeads,
            HeadDim = c.HeadDim,
            Scale = c.AttentionScale,
            Softcap = softcap,
            Sliding = c.SlidingLayers[layer],
        };
    }

    protected GatedMlp Mlp(int layer)
    {
        var c = Config;
        string p = $"layers.{layer}.mlp.";
        return new GatedMlp(
            Linear(p + "gate_proj", c.IntermediateSize, c.HiddenSize, c.MlpBias),
            Linear(p + "up_proj", c.IntermediateSize, c.HiddenSize, c.MlpBias),
            Linear(p + "down_proj", c.HiddenSize, c.IntermediateSize, c.MlpBias),
            c.HiddenAct);
    }

    Tensor Load(string storedName, params long[] shape)
    {
        if (!Checkpoint.Contains(storedName))
            throw new InvalidDataException(
                $"{Checkpoint.Folder}: the checkpoint has no tensor '{storedName}', which a {Config.ModelType} model with these config.json settings needs (an incomplete download, or config.json from another model?).");
        var info = Checkpoint.Info(storedName);
        if (!info.Shape.SequenceEqual(shape))
            throw new InvalidDataException(
                $"{Checkpoint.Folder}: tensor '{storedName}' has shape [{string.Join(", ", info.Shape)}] but config.json implies [{string.Join(", ", shape)}].");
        var stored = Checkpoint.Read(storedName);
        Tensor tensor = stored;
        if (stored.dtype != DType || stored.device != Device)
        {
            tensor = stored.to(DType, Device);
            stored.Dispose();
        }
        // The model owns its weights for its lifetime, whatever dispose scope the caller loads it in.
        _weights[storedName] = tensor.DetachFromDisposeScope();
        return tensor;
    }

    /// <summary>The loaded weights by stored name (training updates them in place).</summary>
    internal IReadOnlyDictionary<string, Tensor> Weights => _weights;

    /// <summary>Number of parameters in the checkpoint (a tied head counted once, vision tower included), as <c>model.num_parameters()</c>.</summary>
    public long NumParameters => Checkpoint.Tensors.Sum(t => t.ElementCount);

    /// <summary>Every parameter with its Hugging Face name, shape and dtype, in the order transformers lists them.</summary>
    public IReadOnlyList<ModelParameter> Parameters => Checkpoint.Tensors
        .Select(t => _weights.TryGetValue(t.Name, out var w)
            ? new ModelParameter(t.Name, t.Shape, w.dtype, true)
            : new ModelParameter(t.Name, t.Shape, SafeTensorsDType.TryGetScalarType(t.DType, out var st) ? st : ScalarType.Byte, false))
        .ToList();

    /// <summary>
    /// A parameter by its Hugging Face name. Loaded weights come back as a handle sharing the model's
    /// memory; others (e.g. the vision tower) are read from the checkpoint. The caller disposes the handle.
    /// </summary>
    public Tensor Parameter(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_weights.TryGetValue(name, out var w)) return w.alias();
        if (_weights.TryGetValue(Checkpoint.TextPrefix + StripModelPrefix(name), out w)) return w.alias();
        if (Checkpoint.Contains(name)) return Checkpoint.Read(name);
        var close = Checkpoint.Tensors.Select(t => t.Name).Where(n => n.EndsWith(name.Split('.').Last(), StringComparison.Ordinal)).Take(3).ToList();
        throw new KeyNotFoundException(
            $"No parameter named '{name}'." + (close.Count > 0 ? $" Names look like: {string.Join(", ", close)}." : " List them with Parameters."));
    }

    static string StripModelPrefix(string name) => name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;

    /// <summary>
    /// Runs token ids <c>[T]</c> or <c>[B, T]</c> through the model. With a <paramref name="cache"/>, the ids
    /// continue the cached positions and their keys and values are added to it.
    /// </summary>
    public ForwardResult Forward(Tensor inputIds, ForwardOptions? options = null, KvCache? cache = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= ForwardOptions.Default;
        foreach (var name in options.Hooks?.Names ?? []) HookPoints.Validate(name, Config);
        if (cache is not null && cache.Layers != Config.NumLayers)
            throw new ArgumentException($"The KV cache has {cache.Layers} layers but the model has {Config.NumLayers}.", nameof(cache));
        using var noGrad = options.RecordGradients ? null : no_grad();
        using var scope = NewDisposeScope();
        var ids = CheckIds(inputIds);
        long b = ids.shape[0], t = ids.shape[1];
        long past = cache?.Length ?? 0;
        var padding = PaddingMask(options.PaddingMask, b, t);
        // Every real token of a row, cached ones included, counts one position; padding does not.
        var allPadding = cache?.PaddingMask is { } cached ? cat([cached, padding], 1) : padding;
        var positions = (allPadding.to(ScalarType.Int64).cumsum(1) - Scalars.Of(1L)).clamp_min(Scalars.Of(0L)).narrow(1, past, t);
        var hooks = options.Hooks ?? HookSet.Empty;
        using var ctx = new ForwardContext
        {
            GlobalRope = _rope.Tables(positions, DType),
            LocalRope = _localRope?.Tables(positions, DType),
            GlobalMask = AttentionMask(allPadding, past, t, null),
            SlidingMask = Config.SlidingWindow is int w && Config.SlidingLayers.Any(s => s) ? AttentionMask(allPadding, past, t, w) : null,
            KeepAttentionWeights = options.Attentions,
            Hooks = hooks,
            Cache = cache,
            PositionOffset = past,
        };

        var h = Embeddings.index_select(0, ids.reshape(-1)).view(b, t, Config.HiddenSize);
        // Gemma rounds the scale to the activation dtype before multiplying (sqrt(3072) -> 55.5 in bf16).
        if (EmbeddingScale is double scale) h = h * tensor(scale, dtype: DType, device: Device);
        h = ctx.Hook(HookPoints.Embed, null, h);

        var hidden = new List<Tensor> { h };
        var attentions = new List<Tensor>();
        foreach (var block in _blocks)
        {
            h = block.Forward(h, ctx, out var weights);
            if (weights is not null) attentions.Add(weights);
            hidden.Add(h);
        }
        cache?.Advance(padding);
        var final = ctx.Hook(HookPoints.FinalNorm, null, FinalNorm.Forward(h));
        hidden[^1] = final;

        // contiguous: a strided view sends a bfloat16 matmul down a path ~100x slower than a packed one.
        var head = options.LastPositionLogitsOnly ? final.narrow(1, t - 1, 1).contiguous() : final;
        var logits = HeadLogits(head);

        return new ForwardResult
        {
            Logits = logits.MoveToOuterDisposeScope(),
            HiddenStates = options.HiddenStates ? hidden.Select(x => x.MoveToOuterDisposeScope()).ToList() : null,
            PrenormLast = options.HiddenStates ? h.MoveToOuterDisposeScope() : null,
            Attentions = options.Attentions ? attentions.Select(x => x.MoveToOuterDisposeScope()).ToList() : null,
        };
    }

    /// <summary>
    /// Logits of residual-stream vectors <c>[..., D]</c>: the final norm (optional; recomputed for these vectors), the LM
    /// head and Gemma's logit soft-cap — what the last layer's output goes through. The logit lens reads every layer this
    /// way. The result belongs to the caller's dispose scope.
    /// </summary>
    public Tensor Unembed(Tensor resid, bool applyFinalNorm = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (resid.shape[^1] != Config.HiddenSize)
            throw new ArgumentException($"Residual vectors have {Config.HiddenSize} entries in this model, not {resid.shape[^1]}.", nameof(resid));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = resid.to(DType, Device);
        return HeadLogits(applyFinalNorm ? FinalNorm.Forward(x) : x).MoveToOuterDisposeScope();
    }

    Tensor HeadLogits(Tensor normed)
    {
        var logits = nn.functional.linear(normed, LmHead);
        return Config.FinalLogitSoftcapping is double cap ? (logits / Scalars.Of(cap)).tanh() * Scalars.Of(cap) : logits;
    }

    Tensor PaddingMask(Tensor? mask, long b, long t)
    {
        if (mask is null) return ones([b, t], dtype: ScalarType.Bool, device: Device);
        if (mask.dim() == 1) mask = mask.unsqueeze(0);
        if (mask.shape[0] != b || mask.shape[1] != t)
            throw new ArgumentException($"The padding mask has shape [{string.Join(", ", mask.shape)}] but the ids are [{b}, {t}].");
        return mask.to(ScalarType.Bool, Device);
    }

    Tensor CheckIds(Tensor inputIds)
    {
        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"Token ids must be an integer tensor, not {DTypes.Name(inputIds.dtype)}.");
        if (inputIds.dim() is not (1 or 2) || inputIds.shape[^1] == 0)
            throw new ArgumentException($"Token ids must be [T] or [B, T] with T > 0, not [{string.Join(", ", inputIds.shape)}].");
        long min = inputIds.min().item<long>(), max = inputIds.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(inputIds),
                $"Token id {(min < 0 ? min : max)} is outside this model's vocabulary (0 .. {Config.VocabSize - 1}).");
        var ids = inputIds.to(ScalarType.Int64, Device);
        return ids.dim() == 1 ? ids.unsqueeze(0) : ids;
    }

    /// <summary>
    /// Additive fp32 mask <c>[B, 1, T, S]</c>: query <c>past + i</c> sees key <c>j</c> when j ≤ past + i, key j is not
    /// padding, and (with a window w) j > past + i - w. Hidden entries get float.MinValue rather than -inf, as
    /// transformers does, so a row with nothing visible (a padding query) stays finite instead of NaN.
    /// </summary>
    Tensor AttentionMask(Tensor padding, long past, long t, int? window)
    {
        using var scope = NewDisposeScope();
        long s = padding.shape[1];
        // Per-call values: `using` keeps the scalars alive across the native calls (see Scalars).
        using Scalar from = past, to = past + t, keys = s;
        var q = arange(from, to, Scalars.Of(1L), device: Device).unsqueeze(1);
        var k = arange(Scalars.Of(0L), keys, Scalars.Of(1L), device: Device).unsqueeze(0);
        var visible = (k <= q).unsqueeze(0).logical_and(padding.unsqueeze(1));
        if (window is int w) visible = visible.logical_and((k > q - Scalars.Of((long)w)).unsqueeze(0));
        var mask = zeros([padding.shape[0], t, s], dtype: ScalarType.Float32, device: Device)
            .masked_fill(visible.logical_not(), Scalars.Of((double)float.MinValue));
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }

    void DisposeTensors()
    {
        foreach (var w in _weights.Values) w.Dispose();
        _weights.Clear();
        _rope?.Dispose();
        _localRope?.Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeTensors();
        Checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}
