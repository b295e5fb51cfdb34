using System.Runtime.InteropServices;
using System.Text;
using NotebookLens.Tokenization;

namespace NotebookLens.Training;

/// <summary>
/// Cuts training text into the units BPE counts: special tokens out, Llama 3's split, and Chinese cut
/// into lexicon words, so no merge is learned across a Chinese word boundary. Encoding still sees the
/// whole Llama 3 pre-token; only the counts are finer.
/// </summary>
sealed class TrainingUnits
{
    readonly AddedVocabulary _specials;
    readonly FastSplitPattern _split = FastSplitPattern.For(FastSplitPattern.Llama3)!;
    readonly HashSet<string> _hanWords;
    readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _hanWordLookup;
    readonly int _longestHanWord;
    readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _countLookup;

    TrainingUnits(IReadOnlyList<string> specials, IEnumerable<string> lexicon)
    {
        _specials = new AddedVocabulary(specials.Select((s, i) => new AddedToken(i, s, true, false, false, false, false)));
        _hanWords = lexicon.Where(w => w.Length > 1 && w.EnumerateRunes().All(IsHan)).ToHashSet(StringComparer.Ordinal);
        _hanWordLookup = _hanWords.GetAlternateLookup<ReadOnlySpan<char>>();
        _longestHanWord = _hanWords.Select(w => w.Length).DefaultIfEmpty(0).Max();
        _countLookup = _counts.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Each distinct unit of the texts with how often it occurs.</summary>
    public static Dictionary<string, long> Count(IEnumerable<string> texts, IReadOnlyList<string> specials, IEnumerable<string> lexicon)
    {
        var units = new TrainingUnits(specials, lexicon);
        foreach (var text in texts) units.Add(text);
        return units._counts;
    }

    void Add(string text)
    {
        foreach (var segment in _specials.Split(new Segment(text, 0, null)))
        {
            if (segment.Token is not null) continue;
            foreach (var (start, length) in _split.Matches(segment.Text))
                AddPreToken(segment.Text.AsSpan(start, length));
        }
    }

    void AddPreToken(ReadOnlySpan<char> piece)
    {
        if (!ContainsHan(piece))
        {
            Tally(piece);
            return;
        }
        // Only Llama 3's letter alternative yields Han: an optional non-letter, then letters.
        int i = 0;
        Rune.DecodeFromUtf16(piece, out var first, out int firstLength);
        if (!Rune.IsLetter(first))
        {
            Tally(piece[..firstLength]);
            i = firstLength;
        }
        while (i < piece.Length)
        {
            bool han = IsHan(RuneAt(piece, i, out _));
            int j = i;
            while (j < piece.Length && IsHan(RuneAt(piece, j, out int width)) == han) j += width;
            if (han) AddHanRun(piece[i..j]);
            else Tally(piece[i..j]);
            i = j;
        }
    }

    /// <summary>Forward longest match against the lexicon; characters outside it stand alone.</summary>
    void AddHanRun(ReadOnlySpan<char> run)
    {
        for (int i = 0; i < run.Length;)
        {
            RuneAt(run, i, out int length);
            for (int n = Math.Min(_longestHanWord, run.Length - i); n > length; n--)
                if (_hanWordLookup.Contains(run.Slice(i, n)))
                {
                    length = n;
                    break;
                }
            Tally(run.Slice(i, length));
            i += length;
        }
    }

    void Tally(ReadOnlySpan<char> unit) => CollectionsMarshal.GetValueRefOrAddDefault(_countLookup, unit, out _)++;

    static Rune RuneAt(ReadOnlySpan<char> text, int index, out int length)
    {
        Rune.DecodeFromUtf16(text[index..], out var rune, out length);
        return rune;
    }

    static bool ContainsHan(ReadOnlySpan<char> text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (IsHan(rune)) return true;
        return false;
    }

    /// <summary>CJK ideographs: the unified blocks, their extensions (planes 2 and 3) and the compatibility block.</summary>
    public static bool IsHan(Rune r) => r.Value is >= 0x3400 and <= 0x4DBF or >= 0x4E00 and <= 0x9FFF or >= 0xF900 and <= 0xFAFF or >= 0x20000 and <= 0x3FFFF;
}
