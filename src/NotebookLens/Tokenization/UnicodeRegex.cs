using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NotebookLens.Tokenization;

/// <summary>
/// A tokenizer split pattern evaluated per code point, as the Rust and JavaScript engines behind
/// Hugging Face tokenizers do. .NET's Regex sees UTF-16 units, so an astral letter such as 𝐀 would be
/// two surrogates rather than one <c>\p{L}</c>. We match on a stand-in string with one BMP character per
/// code point, of the same general category, and map match offsets back to the original text.
/// The stand-in also spells ſ (U+017F) as s: Unicode case folding, which those engines use for
/// <c>(?i)</c>, makes them equal, and .NET's case-insensitive matching does not.
/// </summary>
public sealed class UnicodeRegex
{
    const char LongS = 'ſ';

    readonly Regex _regex;

    public UnicodeRegex(string pattern)
    {
        try { _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled); }
        catch (ArgumentException e) { throw new NotSupportedException($"The tokenizer's split pattern is not a regex .NET can run: {e.Message}", e); }
    }

    /// <summary>(start, length) of every match, in UTF-16 units of <paramref name="text"/>.</summary>
    public IEnumerable<(int Start, int Length)> Matches(string text)
    {
        if (!text.Any(c => char.IsSurrogate(c) || c == LongS))
        {
            foreach (Match m in _regex.Matches(text)) yield return (m.Index, m.Length);
            yield break;
        }
        var (standIn, offsets) = StandIn(text);
        foreach (Match m in _regex.Matches(standIn))
            yield return (offsets[m.Index], offsets[m.Index + m.Length] - offsets[m.Index]);
    }

    /// <summary>One BMP character per code point; <c>offsets[k]</c> is where code point k starts in the text.</summary>
    static (string, int[]) StandIn(string text)
    {
        var sb = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        int i = 0;
        while (i < text.Length)
        {
            offsets.Add(i);
            if (Rune.TryGetRuneAt(text, i, out var rune))
            {
                sb.Append(rune.Value == LongS ? 's' : rune.IsBmp ? (char)rune.Value : Representative(Rune.GetUnicodeCategory(rune)));
                i += rune.Utf16SequenceLength;
            }
            else
            {
                sb.Append(Representative(UnicodeCategory.Surrogate));
                i++;
            }
        }
        offsets.Add(text.Length);
        return (sb.ToString(), offsets.ToArray());
    }

    /// <summary>A BMP character of the given category, none of them ASCII (patterns spell ASCII literally).</summary>
    static char Representative(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'À',
        UnicodeCategory.LowercaseLetter => 'à',
        UnicodeCategory.TitlecaseLetter => 'ǅ',
        UnicodeCategory.ModifierLetter => 'ʰ',
        UnicodeCategory.OtherLetter => '一',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '٠',
        UnicodeCategory.LetterNumber => 'Ⅰ',
        UnicodeCategory.OtherNumber => '²',
        UnicodeCategory.ConnectorPunctuation => '‿',
        UnicodeCategory.DashPunctuation => '‐',
        UnicodeCategory.OpenPunctuation => '⁅',
        UnicodeCategory.ClosePunctuation => '⁆',
        UnicodeCategory.InitialQuotePunctuation => '«',
        UnicodeCategory.FinalQuotePunctuation => '»',
        UnicodeCategory.OtherPunctuation => '¡',
        UnicodeCategory.MathSymbol => '¬',
        UnicodeCategory.CurrencySymbol => '¢',
        UnicodeCategory.ModifierSymbol => '´',
        UnicodeCategory.OtherSymbol => '©',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.OtherNotAssigned => '\u0378',
        _ => '\uFFFD',
    };
}
