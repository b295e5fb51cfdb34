using System.Text.Json;
using NotebookLens.Loading;

namespace NotebookLens.Tokenization;

/// <summary>
/// What <c>tokenizer_config.json</c> (with <c>special_tokens_map.json</c> and <c>generation_config.json</c>
/// as fallbacks and additions) says: special tokens by name, decode cleanup, and the chat template.
/// </summary>
public sealed record TokenizerSettings
{
    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }
    /// <summary>Extra end ids from generation_config.json (Llama 3.x: end_of_text, eom_id, eot_id).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public bool CleanUpTokenizationSpaces { get; init; }
    /// <summary>The Jinja chat template (the one named "default" when the config has several), or null.</summary>
    public string? ChatTemplate { get; init; }

    public static TokenizerSettings Load(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        try { return Load(folder, Read(path)); }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"{path}: a field has the wrong JSON type ({e.Message}).", e);
        }
    }

    static TokenizerSettings Load(string folder, JsonElement? config)
    {
        var map = Read(Path.Combine(folder, "special_tokens_map.json"));
        string? Token(string key) => TokenString(config, key) ?? TokenString(map, key);
        return new TokenizerSettings
        {
            BosToken = Token("bos_token"),
            EosToken = Token("eos_token"),
            PadToken = Token("pad_token"),
            UnkToken = Token("unk_token"),
            EosTokenIds = GenerationConfig.Load(folder).EosTokenIds,
            CleanUpTokenizationSpaces = config is { } c && c.TryGetProperty("clean_up_tokenization_spaces", out var clean) && clean.ValueKind == JsonValueKind.True,
            ChatTemplate = config is { } cfg && cfg.TryGetProperty("chat_template", out var template) ? ChatTemplateOf(template) : null,
        };
    }

    static JsonElement? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path} is not a JSON object.");
            return doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
    }

    /// <summary>A special token is written either as a string or as an AddedToken object with "content".</summary>
    static string? TokenString(JsonElement? o, string key) =>
        o is { } e && e.TryGetProperty(key, out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("content", out var c) => c.GetString(),
                _ => null,
            }
            : null;

    static string? ChatTemplateOf(JsonElement template) => template.ValueKind switch
    {
        JsonValueKind.String => template.GetString(),
        JsonValueKind.Array => template.EnumerateArray()
            .Where(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default")
            .Select(t => t.GetProperty("template").GetString()).FirstOrDefault(),
        _ => null,
    };
}
