using System.Globalization;
using System.Text;

namespace NotebookLens.Tokenization;

/// <summary>
/// The split pattern of Llama 3 (and, with single digits, of Qwen 2) as a hand-written scanner over
/// code points. It gives the same matches as the regex, which a test checks on random text, and runs
/// several times faster than .NET's regex engine on it, which dominates encoding time otherwise.
/// </summary>
sealed class FastSplitPattern
{
    public const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    readonly int _maxDigits;

    FastSplitPattern(int maxDigits) => _maxDigits = maxDigits;

    /// <summary>A scanner for <paramref name="pattern"/>, or null when it is not one we know.</summary>
    public static FastSplitPattern? For(string pattern) => pattern switch
    {
        Llama3 => new FastSplitPattern(3),
        Qwen2 => new FastSplitPattern(1),
        _ => null,
    };

    enum Kind : byte { Letter, Number, Space, LineBreak, Other }

    static Kind Classify(int c)
    {
        if (c is '\r' or '\n') return Kind.LineBreak;
        if (c < 0x80)
        {
            if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') return Kind.Letter;
            if (c is >= '0' and <= '9') return Kind.Number;
            if (c is ' ' or '\t' or '\v' or '\f') return Kind.Space;
            return Kind.Other;
        }
        if (c is 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000) return Kind.Space;
        return CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    /// <summary>Case folding of the letters the contractions use; ſ (U+017F) folds to s in both regex engines.</summary>
    static int Fold(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c == 0x17F ? 's' : c;

    static bool IsWhite(Kind k) => k is Kind.Space or Kind.LineBreak;

    public IEnumerable<(int Start, int Length)> Matches(string text)
    {
        // Code points with their UTF-16 offsets; offsets[n] is the end of the text.
        var kinds = new List<Kind>(text.Length);
        var values = new List<int>(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            // A lone surrogate is one code point of its own, as the stand-in string of UnicodeRegex treats it.
            var (value, length) = Rune.TryGetRuneAt(text, i, out var rune) ? (rune.Value, rune.Utf16SequenceLength) : (text[i], 1);
            offsets.Add(i);
            values.Add(value);
            kinds.Add(Classify(value));
            i += length;
        }
        offsets.Add(text.Length);
        int n = kinds.Count;

        int Run(int from, Func<Kind, bool> accept, int max = int.MaxValue)
        {
            int j = from;
            while (j < n && j - from < max && accept(kinds[j])) j++;
            return j;
        }

        for (int i = 0; i < n;)
        {
            int end = Match(i);
            yield return (offsets[i], offsets[end] - offsets[i]);
            i = end;
        }

        int Match(int i)
        {
            var k = kinds[i];
            // 1. English contractions, case-insensitive.
            if (values[i] == '\'' && i + 1 < n)
            {
                int a = Fold(values[i + 1]), b = i + 2 < n ? Fold(values[i + 2]) : -1;
                if (a is 's' or 't' or 'm' or 'd') return i + 2;
                if ((a == 'r' || a == 'v') && b == 'e') return i + 3;
                if (a == 'l' && b == 'l') return i + 3;
            }
            // 2. An optional non-letter, non-digit, non-line-break character, then letters.
            if (k is not (Kind.Letter or Kind.Number or Kind.LineBreak) && i + 1 < n && kinds[i + 1] == Kind.Letter)
                return Run(i + 1, x => x == Kind.Letter);
            if (k == Kind.Letter) return Run(i, x => x == Kind.Letter);
            // 3. One to three (Qwen: one) digits.
            if (k == Kind.Number) return Run(i, x => x == Kind.Number, _maxDigits);
            // 4. An optional space, then punctuation and symbols, then line breaks.
            bool Punct(Kind x) => x == Kind.Other;
            if (values[i] == ' ' && i + 1 < n && Punct(kinds[i + 1]))
                return Run(Run(i + 1, Punct), x => x == Kind.LineBreak);
            if (Punct(k)) return Run(Run(i, Punct), x => x == Kind.LineBreak);
            // k is white space from here on.
            int white = Run(i, IsWhite);
            // 5. White space up to and including its last line break.
            for (int p = white - 1; p >= i; p--)
                if (kinds[p] == Kind.LineBreak) return p + 1;
            // 6. White space not followed by a non-space: all of it at the end, else all but the last.
            if (white == n) return white;
            if (white - i >= 2) return white - 1;
            // 7. Any white space.
            return white;
        }
    }
}
