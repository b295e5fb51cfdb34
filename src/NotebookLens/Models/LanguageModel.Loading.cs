using NotebookLens.Loading;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>Building a model from a checkpoint: the family, the memory check, each weight by name with its shape checked.</summary>
public abstract partial class LanguageModel
{
    /// <summary>Only the families in this assembly derive from it: the blocks they build are engine internals.</summary>
    private protected LanguageModel(Checkpoint checkpoint, LoadOptions options)
    {
        Checkpoint = checkpoint;
        Config = checkpoint.Config;
        Device = ComputeDevice.Resolve(options.Device);
        var stored = checkpoint.Info(checkpoint.TextPrefix + "embed_tokens.weight").DType;
        DType = options.DType ?? (SafeTensorsDType.TryGetScalarType(stored, out var t) && is_floating_point(t) ? t
            : throw new NotSupportedException($"The embedding table is stored as {stored}; pass a dtype (float32 or bfloat16) to load this model."));
    }

    /// <summary>
    /// Loads the text decoder of a Hugging Face model folder, or of a hub id (<c>org/name[@revision]</c>) found in
    /// or downloaded to the Hugging Face cache (<see cref="ModelLocator"/>).
    /// </summary>
    public static LanguageModel Load(string folderOrHubId, LoadOptions? options = null)
    {
        TorchRuntime.EnsureLoaded();
        options ??= LoadOptions.Default;
        // Before a hub download or a read of the weights: a device this process cannot use is the first thing to say.
        ComputeDevice.Resolve(options.Device);
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
            StopTokenIds = c.EosTokenIds.Concat(GenerationConfig.Load(Checkpoint.Folder).EosTokenIds).Distinct().ToList();
            // Weights kept in the stored dtype hold their mapping; converted ones need none, so the file leaves our RSS.
            Checkpoint.ReleaseMappings();
        }
        catch
        {
            DisposeTensors();
            throw;
        }
    }

    private protected abstract DecoderBlock BuildBlock(int layer);

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

    /// <summary>The scalar the embedding output is multiplied by (Gemma: <c>sqrt(hidden_size)</c>), or null.</summary>
    private protected virtual double? EmbeddingScale => null;

    /// <summary>Whether norms multiply by <c>1 + w</c> (Gemma) instead of <c>w</c>.</summary>
    private protected abstract bool OffsetNorms { get; }

    /// <summary>Loads a text-decoder weight by its name under the text prefix, checking its shape.</summary>
    private protected Tensor Weight(string name, params long[] shape) => Load(Checkpoint.TextPrefix + name, shape);

    /// <summary>An RMSNorm over <paramref name="size"/> features (hidden size, or head_dim for q/k norms).</summary>
    private protected RmsNorm Norm(string name, long size) => new(Weight(name, size), Config.RmsNormEps, OffsetNorms);

    private protected Linear Linear(string name, long outFeatures, long inFeatures, bool bias) =>
        new(Weight(name + ".weight", outFeatures, inFeatures), bias ? Weight(name + ".bias", outFeatures) : null);

    private protected Attention Attention(int layer, bool qkNorm, double? softcap)
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

    private protected GatedMlp Mlp(int layer)
    {
        var c = Config;
        string p = $"layers.{layer}.mlp.";
        var gate = Linear(p + "gate_proj", c.IntermediateSize, c.HiddenSize, c.MlpBias);
        var up = Linear(p + "up_proj", c.IntermediateSize, c.HiddenSize, c.MlpBias);
        var joined = Models.Linear.Joined(gate, up)?.DetachFromDisposeScope();
        if (joined is not null) _views.Add(joined);
        return new GatedMlp(gate, up, Linear(p + "down_proj", c.HiddenSize, c.IntermediateSize, c.MlpBias), c.HiddenAct) { GateUp = joined };
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
}
