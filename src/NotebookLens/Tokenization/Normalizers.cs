using System.Text;
using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>A <c>tokenizer.json</c> normalizer: rewrites text before it is split into words.</summary>
public abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    internal static TextNormalizer? Parse(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : ParseOne(e);

    static TextNormalizer ParseOne(JsonElement e)
    {
        var type = TokenizerJson.Type(e, "normalizer");
        return type switch
        {
            "Sequence" => new SequenceNormalizer(e.GetProperty("normalizers").EnumerateArray().Select(ParseOne).ToList()),
            "Replace" => new ReplaceNormalizer(TokenizerJson.LiteralPattern(e, "normalizer Replace"), TokenizerJson.Str(e, "content", "normalizer Replace")),
            "Prepend" => new PrependNormalizer(TokenizerJson.Str(e, "prepend", "normalizer Prepend")),
            "NFC" => new UnicodeFormNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeFormNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeFormNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeFormNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            _ => throw new NotSupportedException($"tokenizer.json: normalizer type '{type}' is not supported (Sequence, Replace, Prepend, NFC, NFD, NFKC, NFKD, Lowercase are)."),
        };
    }
}

sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
{
    public override string Normalize(string text) => steps.Aggregate(text, (t, s) => s.Normalize(t));
}

sealed class ReplaceNormalizer(string pattern, string content) : TextNormalizer
{
    public override string Normalize(string text) => text.Replace(pattern, content, StringComparison.Ordinal);
}

sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    // transformers prepends only to non-empty text.
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

sealed class UnicodeFormNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text) => text.Normalize(form);
}

sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}
