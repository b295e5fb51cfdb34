using System.Globalization;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>
/// Python <c>str</c> semantics over .NET strings. Python indexes strings by code point while .NET
/// uses UTF-16 units, so lengths, indexing and slicing go through code points here (emoji in
/// messages must count as one character, as they do for HF).
/// </summary>
internal static class PyText
{
    /// <summary>Python's <c>str.isspace</c> (also what <c>\s</c>, <c>strip()</c> and <c>split()</c> use).</summary>
    public static bool IsSpace(char c) =>
        c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x1f' or '\x85'
        || (c > 127 && char.IsWhiteSpace(c));

    public static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                list.Add(s[i].ToString());
            }
        }

        return list;
    }

    public static int Length(string s)
    {
        int n = s.Length;
        for (int i = 0; i + 1 < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && char.IsLowSurrogate(s[i + 1]))
            {
                n--;
                i++;
            }
        }

        return n;
    }

    /// <summary>Converts a UTF-16 index into a code point index (for <c>find</c>, <c>index</c>).</summary>
    public static int CodePointIndex(string s, int utf16Index) => Length(s[..utf16Index]);

    public static string Strip(string s, string? chars) => LStrip(RStrip(s, chars), chars);

    public static string LStrip(string s, string? chars = null)
    {
        int i = 0;
        while (i < s.Length && IsStripped(s[i], chars))
            i++;
        return s[i..];
    }

    public static string RStrip(string s, string? chars = null)
    {
        int i = s.Length;
        while (i > 0 && IsStripped(s[i - 1], chars))
            i--;
        return s[..i];
    }

    private static bool IsStripped(char c, string? chars) => chars is null ? IsSpace(c) : chars.Contains(c);

    /// <summary>Python's <c>str.split(sep, maxsplit)</c>, including the whitespace-run form when sep is None.</summary>
    public static List<object?> Split(string s, string? sep, int maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i]))
                    i++;
                if (i >= s.Length)
                    break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[i..]);
                    break;
                }

                int start = i;
                while (i < s.Length && !IsSpace(s[i]))
                    i++;
                parts.Add(s[start..i]);
            }

            return parts;
        }

        if (sep.Length == 0)
            throw new TemplateRuntimeException("empty separator");
        int pos = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int hit = s.IndexOf(sep, pos, StringComparison.Ordinal);
            if (hit < 0)
                break;
            parts.Add(s[pos..hit]);
            pos = hit + sep.Length;
        }

        parts.Add(s[pos..]);
        return parts;
    }

    /// <summary>Python's <c>str.rsplit(sep, maxsplit)</c>.</summary>
    public static List<object?> RSplit(string s, string? sep, int maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            int i = s.Length;
            while (true)
            {
                while (i > 0 && IsSpace(s[i - 1]))
                    i--;
                if (i <= 0)
                    break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[..i]);
                    break;
                }

                int end = i;
                while (i > 0 && !IsSpace(s[i - 1]))
                    i--;
                parts.Add(s[i..end]);
            }

            parts.Reverse();
            return parts;
        }

        if (sep.Length == 0)
            throw new TemplateRuntimeException("empty separator");
        int pos = s.Length;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int hit = pos - sep.Length < 0 ? -1 : s.LastIndexOf(sep, pos - 1, pos, StringComparison.Ordinal);
            if (hit < 0)
                break;
            parts.Add(s[(hit + sep.Length)..pos]);
            pos = hit;
        }

        parts.Add(s[..pos]);
        parts.Reverse();
        return parts;
    }

    /// <summary>Python's <c>str.splitlines()</c>, which also breaks on \v, \f, \x1c-\x1e, \x85, \u2028, \u2029.</summary>
    public static List<string> SplitLines(string s, bool keepEnds = false)
    {
        var lines = new List<string>();
        int start = 0;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            bool isBreak = c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029';
            if (!isBreak)
            {
                i++;
                continue;
            }

            int eol = i;
            i += c == '\r' && i + 1 < s.Length && s[i + 1] == '\n' ? 2 : 1;
            lines.Add(keepEnds ? s[start..i] : s[start..eol]);
            start = i;
        }

        if (start < s.Length)
            lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python's <c>str.replace(old, new, count)</c>; an empty <paramref name="old"/> inserts between code points.</summary>
    public static string Replace(string s, string old, string replacement, int count)
    {
        if (count < 0)
            count = int.MaxValue;
        var sb = new StringBuilder();
        if (old.Length == 0)
        {
            List<string> cps = CodePoints(s);
            int done = 0;
            for (int i = 0; i <= cps.Count; i++)
            {
                if (done < count)
                {
                    sb.Append(replacement);
                    done++;
                }

                if (i < cps.Count)
                    sb.Append(cps[i]);
            }

            return sb.ToString();
        }

        int pos = 0;
        for (int n = 0; n < count; n++)
        {
            int hit = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (hit < 0)
                break;
            sb.Append(s, pos, hit - pos).Append(replacement);
            pos = hit + old.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    /// <summary>Python's <c>str.count(sub)</c>: non-overlapping occurrences; "" occurs len+1 times.</summary>
    public static int Count(string s, string sub)
    {
        if (sub.Length == 0)
            return Length(s) + 1;
        int n = 0;
        for (int hit = s.IndexOf(sub, StringComparison.Ordinal); hit >= 0; hit = s.IndexOf(sub, hit + sub.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    /// <summary>Python's <c>str.title()</c>: upper-cases letters that follow an uncased character.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            bool cased = char.IsUpper(c) || char.IsLower(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter;
            sb.Append(cased ? (previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            previousCased = cased;
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>str.capitalize()</c>: first character upper-cased, the rest lower-cased.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string SwapCase(string s) =>
        string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.IsLower(c) ? char.ToUpperInvariant(c) : c));

    /// <summary>Python's <c>str.center(width)</c>, which puts the odd padding character on the left when width is odd.</summary>
    public static string Center(string s, int width, char fill = ' ')
    {
        int margin = width - Length(s);
        if (margin <= 0)
            return s;
        int left = margin / 2 + (margin & width & 1);
        return new string(fill, left) + s + new string(fill, margin - left);
    }

    public static bool IsCasedLower(string s) => s.Any(char.IsLower) && !s.Any(char.IsUpper);

    public static bool IsCasedUpper(string s) => s.Any(char.IsUpper) && !s.Any(char.IsLower);

    /// <summary>Python's <c>\w</c> for str patterns: letters, digits (any script) and underscore.</summary>
    public static bool IsWordChar(char c) =>
        c == '_' || char.IsLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>Python's ordering of strings: by code point, which differs from UTF-16 order above U+FFFF.</summary>
    public static int CompareCodePoints(string a, string b)
    {
        int i = 0;
        int j = 0;
        while (i < a.Length && j < b.Length)
        {
            int ca = NextCodePoint(a, ref i);
            int cb = NextCodePoint(b, ref j);
            if (ca != cb)
                return ca < cb ? -1 : 1;
        }

        return (a.Length - i).CompareTo(b.Length - j);
    }

    /// <summary>Reads the code point at <paramref name="i"/> and advances past it; lone surrogates read as themselves.</summary>
    public static int NextCodePoint(string s, ref int i)
    {
        if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            int cp = char.ConvertToUtf32(s[i], s[i + 1]);
            i += 2;
            return cp;
        }

        return s[i++];
    }
}
