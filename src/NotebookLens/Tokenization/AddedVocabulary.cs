using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>An entry of <c>tokenizer.json</c>'s <c>added_tokens</c>.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool Normalized, bool LeftStrip, bool RightStrip, bool SingleWord);

/// <summary>A segment of the input: plain text to tokenize, or one added token.</summary>
readonly record struct Segment(string Text, int Start, AddedToken? Token);

/// <summary>
/// Finds added tokens (<c>&lt;|eot_id|&gt;</c>, <c>&lt;start_of_turn&gt;</c>, ...) in text before anything else
/// touches it, leftmost-longest as transformers does, so they become their own ids.
/// </summary>
sealed class AddedVocabulary
{
    sealed class Node
    {
        public readonly Dictionary<char, Node> Children = [];
        public AddedToken? Token;
    }

    readonly Node _root = new();

    public AddedVocabulary(IEnumerable<AddedToken> tokens)
    {
        foreach (var token in tokens)
        {
            if (token.Content.Length == 0) continue;
            var node = _root;
            foreach (var c in token.Content)
            {
                if (!node.Children.TryGetValue(c, out var child)) node.Children[c] = child = new Node();
                node = child;
            }
            node.Token = token;
        }
    }

    public static List<AddedToken> Parse(JsonElement tokenizer)
    {
        var result = new List<AddedToken>();
        if (!tokenizer.TryGetProperty("added_tokens", out var list) || list.ValueKind != JsonValueKind.Array) return result;
        foreach (var t in list.EnumerateArray())
        {
            if (!t.TryGetProperty("id", out var id) || !t.TryGetProperty("content", out _))
                throw new InvalidDataException($"tokenizer.json: added token {t} needs \"id\" and \"content\".");
            result.Add(new AddedToken(id.GetInt32(), TokenizerJson.Str(t, "content", $"added token {id}"), TokenizerJson.Bool(t, "special", false),
                TokenizerJson.Bool(t, "normalized", false), TokenizerJson.Bool(t, "lstrip", false),
                TokenizerJson.Bool(t, "rstrip", false), TokenizerJson.Bool(t, "single_word", false)));
        }
        return result;
    }

    /// <summary>Splits a segment's text around the added tokens found in it.</summary>
    public IEnumerable<Segment> Split(Segment segment)
    {
        var text = segment.Text;
        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            var (token, length) = LongestAt(text, i);
            if (token is null || (token.SingleWord && !IsWordBoundary(text, i, length)))
            {
                i++;
                continue;
            }
            int start = i, end = i + length;
            // lstrip/rstrip tokens swallow the whitespace beside them.
            if (token.LeftStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RightStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) yield return new Segment(text[plainStart..start], segment.Start + plainStart, null);
            yield return new Segment(text[start..end], segment.Start + start, token);
            plainStart = i = end;
        }
        if (plainStart < text.Length) yield return new Segment(text[plainStart..], segment.Start + plainStart, null);
    }

    (AddedToken? Token, int Length) LongestAt(string text, int start)
    {
        AddedToken? found = null;
        int length = 0;
        var node = _root;
        for (int j = start; j < text.Length && node.Children.TryGetValue(text[j], out node); j++)
            if (node.Token is not null)
            {
                found = node.Token;
                length = j - start + 1;
            }
        return (found, length);
    }

    static bool IsWordBoundary(string text, int start, int length) =>
        (start == 0 || !char.IsLetterOrDigit(text[start - 1])) && (start + length >= text.Length || !char.IsLetterOrDigit(text[start + length]));
}
