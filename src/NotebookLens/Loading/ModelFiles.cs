using System.Text.Json;
using System.Text.RegularExpressions;

namespace NotebookLens.Loading;

/// <summary>What a caller needs from a model repository: the tokenizer only (a few MB) or the weights too.</summary>
[Flags]
public enum ModelParts
{
    Tokenizer = 1,
    Weights = 2,
    All = Tokenizer | Weights,
}

/// <summary>
/// The files of a hub repository that NotebookLens reads, as <c>snapshot_download</c>'s allow patterns would pick
/// them: config and tokenizer files, and safetensors weights by their index. Never <c>*.bin</c> / <c>*.pth</c>
/// pickles, other formats, or extra safetensors beside the model's (adapters, consolidated copies).
/// </summary>
static partial class ModelFiles
{
    public const string Config = "config.json";
    public const string Index = "model.safetensors.index.json";
    public const string SingleWeights = "model.safetensors";

    static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", GenerationConfig.FileName];
    static readonly string[] WeightsSideFiles = [Config, GenerationConfig.FileName];

    /// <summary>The small files the parts read (besides the weights); a repository may lack some of them.</summary>
    public static IReadOnlyList<string> SmallFiles(ModelParts parts) =>
        new[] { Config }
            .Concat(parts.HasFlag(ModelParts.Tokenizer) ? TokenizerFiles : [])
            .Concat(parts.HasFlag(ModelParts.Weights) ? WeightsSideFiles : [])
            .Distinct().ToList();

    /// <summary>
    /// What a snapshot folder lacks for the parts: small files neither there nor known to be absent from the
    /// repository, and weights (the index, or shards it lists, or model.safetensors). Empty when the snapshot is complete.
    /// </summary>
    public static List<string> Lacking(string snapshot, ModelParts parts, Func<string, bool> knownMissing)
    {
        var lacking = SmallFiles(parts).Where(f => !File.Exists(Path.Combine(snapshot, f)) && !knownMissing(f)).ToList();
        if (parts.HasFlag(ModelParts.Weights)) lacking.AddRange(LackingWeights(snapshot));
        return lacking;
    }

    /// <summary>What the parts cannot do without: the weights and config.json, or tokenizer.json.</summary>
    public static List<string> LackingRequired(string snapshot, ModelParts parts)
    {
        var required = parts.HasFlag(ModelParts.Tokenizer) ? new List<string> { "tokenizer.json" } : [];
        if (parts.HasFlag(ModelParts.Weights)) required.Add(Config);
        var lacking = required.Where(f => !File.Exists(Path.Combine(snapshot, f))).ToList();
        if (parts.HasFlag(ModelParts.Weights)) lacking.AddRange(LackingWeights(snapshot));
        return lacking;
    }

    static IEnumerable<string> LackingWeights(string snapshot)
    {
        var index = Path.Combine(snapshot, Index);
        if (File.Exists(index)) return Shards(index).Where(s => !File.Exists(HubCache.Within(snapshot, s)));
        bool present = File.Exists(Path.Combine(snapshot, SingleWeights))
                       || (Directory.Exists(snapshot) && Directory.EnumerateFiles(snapshot).Any(f => ShardName().IsMatch(Path.GetFileName(f))));
        return present ? [] : [SingleWeights];
    }

    /// <summary>The shard files an index's <c>weight_map</c> names, each once, in order.</summary>
    public static IReadOnlyList<string> Shards(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            return doc.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new InvalidDataException($"the weight_map entry of '{p.Name}' is not a file name")).Distinct().Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{indexPath} is not a valid safetensors index (it needs a \"weight_map\" object): {e.Message}", e);
        }
    }

    /// <summary>
    /// The weights to fetch from a repository's file list when it has no index: model.safetensors, or shards named
    /// like <c>model-00001-of-00002.safetensors</c>. Throws when it has no safetensors weights at all.
    /// </summary>
    public static IReadOnlyList<string> UnindexedWeights(HubId id, IReadOnlyCollection<string> repoFiles)
    {
        if (repoFiles.Contains(SingleWeights)) return [SingleWeights];
        var shards = repoFiles.Where(f => ShardName().IsMatch(f)).Order(StringComparer.Ordinal).ToList();
        if (shards.Count > 0) return shards;
        var pickles = repoFiles.Where(f => f.EndsWith(".bin", StringComparison.Ordinal) || f.EndsWith(".pth", StringComparison.Ordinal)).ToList();
        throw new HubException(HubErrorKind.NoSafetensors, pickles.Count > 0
            ? $"{id} has only PyTorch pickle weights ({string.Join(", ", pickles.Take(3))}{(pickles.Count > 3 ? ", ..." : "")}), which NotebookLens does not load (unpickling can run code). Look for a version of the model with model.safetensors (most models have one; the model page's \"Files\" tab shows it), or convert it with Python's safetensors."
            : $"{id} has no model weights NotebookLens can read: no {SingleWeights}, no {Index}. Is it a model repository (not a dataset or a GGUF/ONNX export)?");
    }

    [GeneratedRegex(@"^model-\d+-of-\d+\.safetensors$")]
    private static partial Regex ShardName();
}
