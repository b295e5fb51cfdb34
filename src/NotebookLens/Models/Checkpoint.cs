using NotebookLens.Loading;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>A tensor of a checkpoint as stored: Hugging Face name, shape, safetensors dtype, and its file.</summary>
public sealed record StoredTensor(string Name, long[] Shape, string DType, string File)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A Hugging Face model folder: <c>config.json</c> plus one <c>model.safetensors</c> or shards listed by
/// <c>model.safetensors.index.json</c>. Opening reads only headers; tensors are memory-mapped when read.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    /// <summary>Where a text decoder's weights may live: plain, multimodal as on the hub, multimodal as newer transformers saves it.</summary>
    static readonly string[] TextPrefixes = ["model.", "language_model.model.", "model.language_model."];

    readonly Dictionary<string, SafeTensorsFile> _files;
    readonly Dictionary<string, StoredTensor> _tensors;

    Checkpoint(string folder, ModelConfig config, Dictionary<string, SafeTensorsFile> files, Dictionary<string, StoredTensor> tensors)
    {
        Folder = folder;
        Config = config;
        _files = files;
        _tensors = tensors;
        Tensors = tensors.Values.OrderBy(t => t.Name, ParameterNameComparer.Instance).ToList();
        TextPrefix = TextPrefixes.FirstOrDefault(p => tensors.ContainsKey(p + "embed_tokens.weight"))
            ?? throw new InvalidDataException(
                $"{folder}: no embedding table found (looked for {string.Join(", ", TextPrefixes.Select(p => p + "embed_tokens.weight"))}). Is this a {config.ModelType} checkpoint?");
        // lm_head sits beside the text model: "lm_head.weight" or "language_model.lm_head.weight".
        var headPrefix = TextPrefix.EndsWith("model.", StringComparison.Ordinal) ? TextPrefix[..^"model.".Length] : "";
        LmHeadName = new[] { headPrefix + "lm_head.weight", "lm_head.weight" }.FirstOrDefault(tensors.ContainsKey);
    }

    public string Folder { get; }

    public ModelConfig Config { get; }

    /// <summary>Every stored tensor, in model order (embeddings, layer 0, layer 1, ..., final norm, head).</summary>
    public IReadOnlyList<StoredTensor> Tensors { get; }

    /// <summary>The prefix of the text decoder's tensors, e.g. <c>model.</c> or <c>language_model.model.</c>.</summary>
    public string TextPrefix { get; }

    /// <summary>The stored LM head, or null when it is tied to the embedding table and not stored.</summary>
    public string? LmHeadName { get; }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public StoredTensor Info(string name) => _tensors.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"The checkpoint in {Folder} has no tensor '{name}'.");

    public static Checkpoint Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var config = ModelConfig.Load(folder);
        var files = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var file in WeightFiles(folder)) files[Path.GetFileName(file)] = SafeTensorsFile.Open(file);
            var tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
            foreach (var (fileName, st) in files)
                foreach (var info in st.Tensors.Values)
                    if (!tensors.TryAdd(info.Name, new StoredTensor(info.Name, info.Shape, info.DType, fileName)))
                        throw new InvalidDataException($"{folder}: tensor '{info.Name}' is stored in both {tensors[info.Name].File} and {fileName}.");
            return new Checkpoint(folder, config, files, tensors);
        }
        catch
        {
            foreach (var f in files.Values) f.Dispose();
            throw;
        }
    }

    static IEnumerable<string> WeightFiles(string folder)
    {
        var index = Path.Combine(folder, ModelFiles.Index);
        if (File.Exists(index))
        {
            var shards = ModelFiles.Shards(index);
            var missing = shards.Where(s => !File.Exists(Path.Combine(folder, s))).Order().ToList();
            if (missing.Count > 0)
                throw new FileNotFoundException(
                    $"{folder}: {ModelFiles.Index} lists {missing.Count} shard(s) that are missing: {string.Join(", ", missing)}. The download is incomplete; fetch those files again.");
            return shards.Select(s => Path.Combine(folder, s));
        }
        // Hub folders may hold other safetensors beside the weights (adapters, consolidated copies): take only the model's.
        var single = Path.Combine(folder, ModelFiles.SingleWeights);
        if (File.Exists(single)) return [single];
        var shardFiles = Directory.GetFiles(folder, "model-*-of-*.safetensors").Order().ToList();
        if (shardFiles.Count > 0) return shardFiles;
        var pickles = Directory.GetFiles(folder, "*.bin").Concat(Directory.GetFiles(folder, "*.pth")).Select(Path.GetFileName).ToList();
        throw new FileNotFoundException(pickles.Count > 0
            ? $"{folder} has only PyTorch pickle weights ({string.Join(", ", pickles)}). NotebookLens reads safetensors: download the model's *.safetensors files (most hub repos have them) or convert with Python's safetensors."
            : $"{folder} has no model weights: expected model.safetensors, or shards listed in {ModelFiles.Index}.");
    }

    /// <summary>Reads a tensor as stored (a view of the mapped file where possible). The caller owns it.</summary>
    public Tensor Read(string name) => _files[Info(name).File].Read(name);

    /// <inheritdoc cref="SafeTensorsFile.ReleaseMappings"/>
    public void ReleaseMappings()
    {
        foreach (var f in _files.Values) f.ReleaseMappings();
    }

    public void Dispose()
    {
        foreach (var f in _files.Values) f.Dispose();
        _files.Clear();
    }
}

/// <summary>Orders parameter names as transformers lists them: layer numbers by value, modules in registration order.</summary>
internal sealed class ParameterNameComparer : IComparer<string>
{
    public static readonly ParameterNameComparer Instance = new();

    /// <summary>Registration order of the transformers modules, which is what <c>named_parameters()</c> prints.</summary>
    static readonly string[] ModuleOrder =
    [
        "vision_tower", "multi_modal_projector", "language_model", "model", "embed_tokens", "layers",
        "self_attn", "q_proj", "k_proj", "v_proj", "o_proj", "q_norm", "k_norm", "mlp", "gate_proj", "up_proj", "down_proj",
        "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
        "norm", "lm_head", "weight", "bias",
    ];

    public int Compare(string? x, string? y)
    {
        var a = (x ?? "").Split('.');
        var b = (y ?? "").Split('.');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = ComparePart(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    static int ComparePart(string a, string b)
    {
        if (a == b) return 0;
        if (long.TryParse(a, out var na) && long.TryParse(b, out var nb)) return na.CompareTo(nb);
        int ra = Array.IndexOf(ModuleOrder, a), rb = Array.IndexOf(ModuleOrder, b);
        if (ra >= 0 && rb >= 0) return ra.CompareTo(rb);
        return string.CompareOrdinal(a, b);
    }
}
