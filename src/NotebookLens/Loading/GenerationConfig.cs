using System.Text.Json;

namespace NotebookLens.Loading;

/// <summary>
/// What NotebookLens reads from a model folder's <c>generation_config.json</c>: the ids that end generation. The one
/// reader of that file; the model (its stop tokens) and the tokenizer (its end ids) both take it from here.
/// </summary>
public sealed record GenerationConfig(IReadOnlyList<int> EosTokenIds)
{
    public const string FileName = "generation_config.json";

    public static GenerationConfig Empty { get; } = new([]);

    /// <summary>Reads the folder's file; a folder without one has no extra end ids.</summary>
    /// <exception cref="InvalidDataException">The file is not a JSON object, or <c>eos_token_id</c> is neither an integer nor a list of them.</exception>
    public static GenerationConfig Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return Empty;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} is not a JSON object.");
            if (!doc.RootElement.TryGetProperty("eos_token_id", out var eos)) return Empty;
            return new GenerationConfig(eos.ValueKind switch
            {
                JsonValueKind.Array => eos.EnumerateArray().Select(Id).ToList(),
                JsonValueKind.Number => [Id(eos)],
                _ => [],
            });
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>An id written as an integer (transformers also writes <c>1.0</c> in some files).</summary>
    static int Id(JsonElement e) => e.TryGetInt32(out var id) ? id : (int)e.GetDouble();
}
