using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>A piece of normalized text and where it starts in its segment.</summary>
public readonly record struct TextPiece(string Text, int Start);

/// <summary>A <c>tokenizer.json</c> pre-tokenizer: splits normalized text into the words BPE runs on.</summary>
public abstract class PreTokenizerStep
{
    public abstract List<TextPiece> Apply(List<TextPiece> pieces);

    /// <summary>True when words are BPE'd as bytes in the GPT-2 alphabet (a ByteLevel step is present).</summary>
    public virtual bool ByteLevel => false;

    internal static PreTokenizerStep? Parse(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : ParseOne(e);

    static PreTokenizerStep ParseOne(JsonElement e)
    {
        var type = TokenizerJson.Type(e, "pre_tokenizer");
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(e.GetProperty("pretokenizers").EnumerateArray().Select(ParseOne).ToList()),
            "Split" => SplitPreTokenizer.FromJson(e),
            "ByteLevel" => new ByteLevelPreTokenizer(
                TokenizerJson.Bool(e, "add_prefix_space", true), TokenizerJson.Bool(e, "use_regex", true)),
            "Metaspace" => new MetaspacePreTokenizer(
                TokenizerJson.Char(e, "replacement", "pre_tokenizer Metaspace", '▁'),
                e.TryGetProperty("prepend_scheme", out _) ? TokenizerJson.Str(e, "prepend_scheme", "pre_tokenizer Metaspace") : TokenizerJson.Bool(e, "add_prefix_space", true) ? "always" : "never",
                TokenizerJson.Bool(e, "split", true)),
            _ => throw new NotSupportedException($"tokenizer.json: pre_tokenizer type '{type}' is not supported (Sequence, Split, ByteLevel, Metaspace are)."),
        };
    }

    /// <summary>How a split keeps its matches (tokenizers' SplitDelimiterBehavior).</summary>
    internal static readonly string[] Behaviors = ["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"];

    /// <summary>Splits each piece at the matches of <paramref name="find"/>, keeping them as <paramref name="behavior"/> says.</summary>
    internal static List<TextPiece> SplitPieces(List<TextPiece> pieces, Func<string, IEnumerable<(int Start, int Length)>> find, string behavior, bool invert = false)
    {
        var result = new List<TextPiece>();
        foreach (var piece in pieces)
        {
            // The piece as alternating (span, isMatch) runs covering all of it.
            var runs = new List<(int Start, int Length, bool Match)>();
            int at = 0;
            foreach (var (start, length) in find(piece.Text))
            {
                if (length == 0) continue;
                if (start > at) runs.Add((at, start - at, invert));
                runs.Add((start, length, !invert));
                at = start + length;
            }
            if (at < piece.Text.Length) runs.Add((at, piece.Text.Length - at, invert));

            var kept = new List<(int Start, int Length)>();
            switch (behavior)
            {
                case "Isolated":
                    kept.AddRange(runs.Select(r => (r.Start, r.Length)));
                    break;
                case "Removed":
                    kept.AddRange(runs.Where(r => !r.Match).Select(r => (r.Start, r.Length)));
                    break;
                case "MergedWithPrevious":
                    for (int i = 0; i < runs.Count; i++)
                        if (runs[i].Match && i > 0 && !runs[i - 1].Match)
                            kept[^1] = (kept[^1].Start, kept[^1].Length + runs[i].Length);
                        else kept.Add((runs[i].Start, runs[i].Length));
                    break;
                case "MergedWithNext":
                    bool pendingMatch = false;
                    foreach (var r in runs)
                    {
                        if (pendingMatch && !r.Match) kept[^1] = (kept[^1].Start, kept[^1].Length + r.Length);
                        else kept.Add((r.Start, r.Length));
                        pendingMatch = r.Match;
                    }
                    break;
                case "Contiguous":
                    bool lastMatch = false;
                    foreach (var r in runs)
                    {
                        if (r.Match && lastMatch) kept[^1] = (kept[^1].Start, kept[^1].Length + r.Length);
                        else kept.Add((r.Start, r.Length));
                        lastMatch = r.Match;
                    }
                    break;
                default:
                    throw new InvalidOperationException($"split behavior '{behavior}' was not checked when the tokenizer was read.");
            }
            result.AddRange(kept.Where(k => k.Length > 0).Select(k => new TextPiece(piece.Text.Substring(k.Start, k.Length), piece.Start + k.Start)));
        }
        return result;
    }
}

sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizerStep> steps) : PreTokenizerStep
{
    public override List<TextPiece> Apply(List<TextPiece> pieces) => steps.Aggregate(pieces, (p, s) => s.Apply(p));

    public override bool ByteLevel => steps.Any(s => s.ByteLevel);
}

sealed class SplitPreTokenizer(Func<string, IEnumerable<(int, int)>> find, string behavior, bool invert) : PreTokenizerStep
{
    public static SplitPreTokenizer FromJson(JsonElement e)
    {
        var pattern = e.GetProperty("pattern");
        Func<string, IEnumerable<(int, int)>> find;
        if (pattern.TryGetProperty("Regex", out var regex))
        {
            var source = TokenizerJson.Str(pattern, "Regex", "pre_tokenizer Split");
            if (FastSplitPattern.For(source) is { } fast) find = fast.Matches;
            else find = new UnicodeRegex(source).Matches;
        }
        else
        {
            var literal = TokenizerJson.LiteralPattern(e, "pre_tokenizer Split");
            find = text => Occurrences(text, literal);
        }
        var behavior = TokenizerJson.Str(e, "behavior", "pre_tokenizer Split");
        if (!Behaviors.Contains(behavior))
            throw new NotSupportedException($"tokenizer.json: split behavior '{behavior}' is not supported ({string.Join(", ", Behaviors)} are).");
        return new SplitPreTokenizer(find, behavior, TokenizerJson.Bool(e, "invert", false));
    }

    static IEnumerable<(int, int)> Occurrences(string text, string literal)
    {
        for (int i = text.IndexOf(literal, StringComparison.Ordinal); i >= 0; i = text.IndexOf(literal, i + literal.Length, StringComparison.Ordinal))
            yield return (i, literal.Length);
    }

    public override List<TextPiece> Apply(List<TextPiece> pieces) => SplitPieces(pieces, find, behavior, invert);
}

/// <summary>GPT-2 style: optionally a leading space and the GPT-2 split regex; words are then BPE'd as bytes.</summary>
sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
{
    static readonly UnicodeRegex Gpt2 = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+");

    public override bool ByteLevel => true;

    public override List<TextPiece> Apply(List<TextPiece> pieces)
    {
        if (addPrefixSpace)
            pieces = pieces.Select(p => p.Text.StartsWith(' ') ? p : new TextPiece(" " + p.Text, p.Start)).ToList();
        return useRegex ? SplitPieces(pieces, Gpt2.Matches, "Isolated") : pieces;
    }
}

/// <summary>SentencePiece style: spaces become ▁, a ▁ is prepended, and words start at each ▁.</summary>
sealed class MetaspacePreTokenizer(char replacement, string prependScheme, bool split) : PreTokenizerStep
{
    public override List<TextPiece> Apply(List<TextPiece> pieces)
    {
        var replaced = pieces.Select(p =>
        {
            var text = p.Text.Replace(' ', replacement);
            bool prepend = prependScheme == "always" || (prependScheme == "first" && p.Start == 0);
            return prepend && !text.StartsWith(replacement) ? new TextPiece(replacement + text, p.Start) : new TextPiece(text, p.Start);
        }).ToList();
        if (!split) return replaced;
        return SplitPieces(replaced, text => Enumerable.Range(0, text.Length).Where(i => text[i] == replacement).Select(i => (i, 1)), "MergedWithNext");
    }
}
