using NotebookLens.Loading;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// A decoder-only language model loaded from a Hugging Face folder. The forward pass is our own code,
/// layer by layer, so every intermediate activation is reachable. Split by concern: this file holds the
/// model's state and parameter lookup, <c>LanguageModel.Loading.cs</c> how it is built from a checkpoint,
/// <c>LanguageModel.Forward.cs</c> the forward pass.
/// </summary>
public abstract partial class LanguageModel : IDisposable
{
    readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);
    /// <summary>Views over several weights at once (<see cref="Linear.Joined"/>): not parameters of their own.</summary>
    readonly List<Tensor> _views = [];
    readonly List<DecoderBlock> _blocks = [];
    RotaryEmbedding _rope = null!;
    RotaryEmbedding? _localRope;
    bool _disposed;

    public ModelConfig Config { get; }

    public Checkpoint Checkpoint { get; }

    /// <summary>The dtype of the weights and of the computation.</summary>
    public ScalarType DType { get; }

    public Device Device { get; }

    internal IReadOnlyList<DecoderBlock> Blocks => _blocks;

    internal RmsNorm FinalNorm { get; private set; } = null!;

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

    void DisposeTensors()
    {
        foreach (var w in _weights.Values) w.Dispose();
        _weights.Clear();
        foreach (var v in _views) v.Dispose();
        _views.Clear();
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
