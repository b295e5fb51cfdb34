using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLens.Models;

/// <summary>
/// Typed reads of one JSON object of a <c>config.json</c>, with the transformers default where a field is absent; a
/// field of the wrong type, a fraction or an integer out of range is refused with an error naming the file and field.
/// </summary>
sealed class ConfigFields(JsonObject o, string origin)
{
    /// <summary>
    /// Decoder layers no real checkpoint comes near; a bigger count is a corrupt or hostile file, refused before the
    /// per-layer tables and modules are allocated.
    /// </summary>
    public const int MaxLayers = 4096;

    public string Origin => origin;

    public bool Has(string key) => o.ContainsKey(key);

    public bool IsNull(string key) => o[key] is null;

    /// <summary>A nested object (e.g. <c>text_config</c>); absent means empty, so every field takes its default.</summary>
    public ConfigFields Section(string key) => o[key] switch
    {
        JsonObject inner => new ConfigFields(inner, $"{origin} ({key})"),
        null => new ConfigFields([], $"{origin} ({key})"),
        _ => throw Wrong(key, "an object"),
    };

    public int Int(string key, int fallback) => o[key] is null ? fallback : Integer(o[key], key);

    public int? NullableInt(string key) => o[key] is null ? null : Integer(o[key], key);

    /// <summary>A layer count: positive, at most <see cref="MaxLayers"/>.</summary>
    public int Layers(string key, int fallback)
    {
        int layers = Int(key, fallback);
        if (layers <= 0)
            throw new InvalidDataException($"{origin}: {key} must be positive, not {layers}.");
        if (layers > MaxLayers)
            throw new InvalidDataException($"{origin}: {key} is {layers}; NotebookLens refuses more than {MaxLayers} layers (no real model has them: the file is corrupt or not a model's config).");
        return layers;
    }

    public double Double(string key, double fallback) => o[key] is null ? fallback : Number(o[key], key);

    public double? NullableDouble(string key) => o[key] is null ? null : Number(o[key], key);

    public bool Bool(string key, bool fallback) => o[key] switch
    {
        null => fallback,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Wrong(key, "true or false"),
    };

    public string Str(string key, string fallback) => Text(key) ?? fallback;

    /// <summary>A string field, or null when absent.</summary>
    public string? Text(string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw Wrong(key, "a string"),
    };

    /// <summary>An integer or a list of integers (as <c>eos_token_id</c> may be); absent: empty.</summary>
    public IReadOnlyList<int> IntList(string key) => o[key] switch
    {
        null => [],
        JsonArray a => a.Select(x => Integer(x, key)).ToList(),
        var v => [Integer(v, key)],
    };

    /// <summary>A list of strings, or null when absent.</summary>
    public IReadOnlyList<string>? StrList(string key) => o[key] switch
    {
        null => null,
        JsonArray a => a.Select(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Wrong(key, "a list of strings")).ToList(),
        _ => throw Wrong(key, "a list of strings"),
    };

    int Integer(JsonNode? node, string key)
    {
        double d = Number(node, key);
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
            throw new InvalidDataException($"{origin}: {key} must be a whole number within ±{int.MaxValue}, not {node!.ToJsonString()}.");
        return (int)d;
    }

    double Number(JsonNode? node, string key) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : throw Wrong(key, "a number");

    InvalidDataException Wrong(string key, string expected) =>
        new($"{origin}: {key} must be {expected}, not {o[key]?.ToJsonString() ?? "null"}.");
}
