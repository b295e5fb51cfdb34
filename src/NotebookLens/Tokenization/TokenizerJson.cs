using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>Small helpers for reading <c>tokenizer.json</c> components with errors that name what is wrong.</summary>
static class TokenizerJson
{
    public static string Type(JsonElement e, string component) => Str(e, "type", $"a {component}");

    public static bool Bool(JsonElement e, string name, bool fallback) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    /// <summary>A required string field of a component.</summary>
    public static string Str(JsonElement e, string name, string component) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InvalidDataException($"tokenizer.json: {component} needs \"{name}\" as a string.");

    /// <summary>An optional one-character string field (a replacement character).</summary>
    public static char Char(JsonElement e, string name, string component, char fallback) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? fallback
        : v.ValueKind == JsonValueKind.String && v.GetString() is [var c] ? c
        : throw new InvalidDataException($"tokenizer.json: {component} needs \"{name}\" as a one-character string.");

    /// <summary>The <c>{"String": ...}</c> pattern of a Replace or Split; regex patterns are refused where only literals make sense.</summary>
    public static string LiteralPattern(JsonElement e, string component)
    {
        var pattern = e.GetProperty("pattern");
        if (pattern.ValueKind == JsonValueKind.Object && pattern.TryGetProperty("String", out _))
            // An empty literal matches everywhere: a split on it would never advance.
            return Str(pattern, "String", component) is { Length: > 0 } literal
                ? literal
                : throw new InvalidDataException($"tokenizer.json: {component} has an empty pattern.");
        throw new NotSupportedException($"tokenizer.json: {component} with a regex pattern is not supported.");
    }
}
