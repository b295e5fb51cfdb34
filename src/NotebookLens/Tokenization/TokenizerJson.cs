using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>Small helpers for reading <c>tokenizer.json</c> components with errors that name what is wrong.</summary>
static class TokenizerJson
{
    public static string Type(JsonElement e, string component) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : throw new InvalidDataException($"tokenizer.json: a {component} has no \"type\".");

    public static bool Bool(JsonElement e, string name, bool fallback) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    /// <summary>The <c>{"String": ...}</c> pattern of a Replace or Split; regex patterns are refused where only literals make sense.</summary>
    public static string LiteralPattern(JsonElement e, string component)
    {
        var pattern = e.GetProperty("pattern");
        if (pattern.TryGetProperty("String", out var s)) return s.GetString()!;
        throw new NotSupportedException($"tokenizer.json: {component} with a regex pattern is not supported.");
    }
}
