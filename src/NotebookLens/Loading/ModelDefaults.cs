using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLens.Loading;

/// <summary>
/// A Patchscope target a model knows how to continue: <paramref name="Prompt"/> with the representation patched in at
/// the last token of <paramref name="Placeholder"/>, at the target's layer <paramref name="TargetLayer"/> (null: the
/// source's layer).
/// </summary>
public sealed record PatchscopeDefault(string Prompt, string Placeholder, int? TargetLayer);

/// <summary>
/// What a model folder's <c>notebooklens.json</c> asks NotebookLens to use for that model when the user does not say:
/// a model trained for the lecture (the embedded ones) names the Patchscope target in its own curriculum's format, as it
/// never learnt the identity prompt that suits large models. Hugging Face folders have no such file.
/// </summary>
public sealed record ModelDefaults(PatchscopeDefault? Patchscope)
{
    public const string FileName = "notebooklens.json";

    public static ModelDefaults None { get; } = new((PatchscopeDefault?)null);

    /// <summary>Reads the folder's file; a folder without one has no defaults.</summary>
    /// <exception cref="InvalidDataException">The file is not a JSON object, or its <c>patchscope</c> lacks a prompt or a placeholder the prompt contains.</exception>
    public static ModelDefaults Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return None;
        try
        {
            if (JsonNode.Parse(File.ReadAllBytes(path)) is not JsonObject root) throw new InvalidDataException($"{path} is not a JSON object.");
            if (root["patchscope"] is not JsonObject p) return None;
            var prompt = p["prompt"]?.GetValue<string>();
            var placeholder = p["placeholder"]?.GetValue<string>();
            if (string.IsNullOrEmpty(prompt) || string.IsNullOrEmpty(placeholder) || !prompt.Contains(placeholder, StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: \"patchscope\" needs a \"prompt\" and a \"placeholder\" that occurs in it.");
            return new ModelDefaults(new PatchscopeDefault(prompt, placeholder, p["target_layer"]?.GetValue<int>()));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>Writes the folder's file (what <c>train-tiny</c> gives the models it makes).</summary>
    public void Save(string folder)
    {
        var root = new JsonObject();
        if (Patchscope is { } p)
            root["patchscope"] = new JsonObject { ["prompt"] = p.Prompt, ["placeholder"] = p.Placeholder, ["target_layer"] = p.TargetLayer };
        File.WriteAllText(Path.Combine(folder, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }
}
