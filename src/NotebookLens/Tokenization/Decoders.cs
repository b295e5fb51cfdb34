using System.Text;
using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>A <c>tokenizer.json</c> decoder: turns token strings back into text.</summary>
public abstract class TokenDecoder
{
    /// <summary>One output string per input token (some may be empty); the text is their concatenation.</summary>
    public abstract List<string> DecodeChain(List<string> tokens);

    internal static TokenDecoder? Parse(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : ParseOne(e);

    static TokenDecoder ParseOne(JsonElement e)
    {
        var type = TokenizerJson.Type(e, "decoder");
        return type switch
        {
            "Sequence" => new SequenceDecoder(e.GetProperty("decoders").EnumerateArray().Select(ParseOne).ToList()),
            "ByteLevel" => new ByteLevelDecoder(),
            "Replace" => new ReplaceDecoder(TokenizerJson.LiteralPattern(e, "decoder Replace"), TokenizerJson.Str(e, "content", "decoder Replace")),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(TokenizerJson.Char(e, "content", "decoder Strip", ' '), e.GetProperty("start").GetInt32(), e.GetProperty("stop").GetInt32()),
            "Metaspace" => new MetaspaceDecoder(TokenizerJson.Char(e, "replacement", "decoder Metaspace", '▁'),
                !(e.TryGetProperty("prepend_scheme", out var p) && p.GetString() == "never") && TokenizerJson.Bool(e, "add_prefix_space", true)),
            _ => throw new NotSupportedException($"tokenizer.json: decoder type '{type}' is not supported (Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace are)."),
        };
    }
}

sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> steps) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => steps.Aggregate(tokens, (t, s) => s.DecodeChain(t));
}

sealed class ByteLevelDecoder : TokenDecoder
{
    // Bytes of consecutive tokens are joined before UTF-8 decoding: a character may span tokens.
    public override List<string> DecodeChain(List<string> tokens) =>
        [Encoding.UTF8.GetString(tokens.SelectMany(ByteLevelAlphabet.Decode).ToArray())];
}

sealed class ReplaceDecoder(string pattern, string content) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t => t.Replace(pattern, content, StringComparison.Ordinal)).ToList();
}

/// <summary><c>&lt;0xNN&gt;</c> runs become their UTF-8 text; a run that is not valid UTF-8 gives one U+FFFD per byte.</summary>
sealed class ByteFallbackDecoder : TokenDecoder
{
    static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    public static bool TryParseByte(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>();
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            try { result.Add(Strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { result.AddRange(Enumerable.Repeat("\uFFFD", pending.Count)); }
            pending.Clear();
        }
        foreach (var token in tokens)
        {
            if (TryParseByte(token, out var b)) pending.Add(b);
            else
            {
                Flush();
                result.Add(token);
            }
        }
        Flush();
        return result;
    }
}

sealed class FuseDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t =>
    {
        int from = 0, to = t.Length;
        for (int i = 0; i < start && from < to && t[from] == content; i++) from++;
        for (int i = 0; i < stop && to > from && t[to - 1] == content; i++) to--;
        return t[from..to];
    }).ToList();
}

sealed class MetaspaceDecoder(char replacement, bool stripLeadingSpace) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select((t, i) =>
    {
        var s = t.Replace(replacement, ' ');
        return i == 0 && stripLeadingSpace && s.StartsWith(' ') ? s[1..] : s;
    }).ToList();
}
