using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>
/// What <c>add_special_tokens</c> adds around a single sequence, read from <c>tokenizer.json</c>'s
/// <c>post_processor</c> (Llama 3.1's file adds <c>&lt;|begin_of_text|&gt;</c>; the launch-day Llama 3 file adds nothing).
/// </summary>
public sealed record PostProcessor(IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix)
{
    public static PostProcessor None { get; } = new([], []);

    internal static PostProcessor Parse(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return None;
        var type = TokenizerJson.Type(e, "post_processor");
        switch (type)
        {
            case "ByteLevel":
                return None;
            case "Sequence":
                var parts = e.GetProperty("processors").EnumerateArray().Select(Parse).ToList();
                return new PostProcessor(parts.SelectMany(p => p.Prefix).ToList(), parts.SelectMany(p => p.Suffix).ToList());
            case "TemplateProcessing":
                var special = e.GetProperty("special_tokens").EnumerateObject()
                    .ToDictionary(p => p.Name, p => p.Value.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToList());
                List<int> prefix = [], suffix = [];
                bool seenSequence = false;
                foreach (var item in e.GetProperty("single").EnumerateArray())
                {
                    if (item.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                        continue;
                    }
                    var name = TokenizerJson.Str(item.GetProperty("SpecialToken"), "id", "post_processor TemplateProcessing");
                    var ids = special.TryGetValue(name, out var v) ? v
                        : throw new InvalidDataException($"tokenizer.json: post_processor uses '{name}' but does not list its ids.");
                    (seenSequence ? suffix : prefix).AddRange(ids);
                }
                return new PostProcessor(prefix, suffix);
            default:
                throw new NotSupportedException($"tokenizer.json: post_processor type '{type}' is not supported (TemplateProcessing, ByteLevel, Sequence are).");
        }
    }
}
