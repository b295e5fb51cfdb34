using System.Globalization;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>
/// Splits template source into tokens, reproducing jinja2's lexer with
/// <c>trim_blocks=True, lstrip_blocks=True</c> (Hugging Face's settings) byte for byte:
/// which whitespace the <c>-</c>/<c>+</c> markers, trim_blocks and lstrip_blocks remove is
/// decided here, so the parser only ever sees final text.
/// </summary>
internal sealed class Lexer
{
    // Longest first, so "//" wins over "/".
    private static readonly string[] Operators =
    [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private readonly List<int> _lineStarts;
    private int _pos;

    // jinja2's "line_starting": did the previous match end with a newline? lstrip_blocks may then
    // strip a tag's indentation even when no newline sits in the text right before it.
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        _src = Normalize(source);
        _lineStarts = LineStarts(_src);
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    // jinja2 turns \r\n and \r into \n and, without keep_trailing_newline, drops one final newline.
    private static string Normalize(string source)
    {
        string s = source.Replace("\r\n", "\n").Replace('\r', '\n');
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int tag = FindTagStart(_pos);
            if (tag < 0)
            {
                Emit(TokenKind.Data, _src[_pos..], _pos);
                break;
            }

            string text = _src[_pos..tag];
            char opener = _src[tag + 1];
            if (opener == '%' && TryRawBlock(tag, text))
                continue;

            int after = tag + 2;
            char sign = after < _src.Length && (_src[after] == '-' || _src[after] == '+') ? _src[after] : '\0';
            if (sign != '\0')
                after++;

            text = StripBeforeTag(text, sign, isVariable: opener == '{');
            if (text.Length > 0)
                Emit(TokenKind.Data, text, _pos);

            switch (opener)
            {
                case '{':
                    Emit(TokenKind.VariableBegin, "{{", tag);
                    _pos = LexInsideTag(after, block: false);
                    break;
                case '%':
                    Emit(TokenKind.BlockBegin, "{%", tag);
                    _pos = LexInsideTag(after, block: true);
                    break;
                default:
                    _pos = SkipComment(tag, after);
                    break;
            }
        }

        Emit(TokenKind.End, "", _src.Length);
    }

    private int FindTagStart(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            char c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#')
                return i;
        }

        return -1;
    }

    /// <summary>jinja2's OptionalLStrip: applies <c>-</c> or lstrip_blocks to the text that precedes a tag.</summary>
    private string StripBeforeTag(string text, char sign, bool isVariable)
    {
        if (sign == '-')
            return PyText.RStrip(text);
        if (sign == '+' || isVariable)
            return text;

        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting)
            return text;
        for (int i = lineStart; i < text.Length; i++)
        {
            if (text[i] != ' ' && text[i] != '\t')
                return text;
        }

        return text[..lineStart];
    }

    /// <summary>Lexes expression tokens up to the closing <c>}}</c> or <c>%}</c>; returns the position after it.</summary>
    private int LexInsideTag(int pos, bool block)
    {
        var brackets = new Stack<char>();
        while (true)
        {
            if (pos >= _src.Length)
                throw Error(pos, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");

            if (brackets.Count == 0 && TryTagEnd(pos, block, out int end))
                return end;

            char c = _src[pos];
            if (PyText.IsSpace(c))
            {
                pos++;
                continue;
            }

            if (char.IsAsciiDigit(c))
                pos = LexNumber(pos);
            else if (c == '_' || char.IsLetter(c))
                pos = LexName(pos);
            else if (c == '\'' || c == '"')
                pos = LexString(pos);
            else
                pos = LexOperator(pos, brackets);
        }
    }

    private bool TryTagEnd(int pos, bool block, out int end)
    {
        string close = block ? "%}" : "}}";
        end = pos;
        if (block && At(pos, "+%}"))
        {
            // "+%}" keeps the newline that trim_blocks would remove.
            end = pos + 3;
        }
        else if (At(pos, "-" + close))
        {
            end = SkipWhitespace(pos + 3);
        }
        else if (At(pos, close))
        {
            end = pos + 2;
            // trim_blocks: a block tag eats the single newline that follows it; "}}" does not.
            if (block)
                end = SkipOneNewline(end);
        }
        else
        {
            return false;
        }

        _lineStarting = EndsLine(end);
        Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, pos);
        return true;
    }

    private int SkipWhitespace(int pos)
    {
        while (pos < _src.Length && PyText.IsSpace(_src[pos]))
            pos++;
        return pos;
    }

    private int SkipOneNewline(int pos) => pos < _src.Length && _src[pos] == '\n' ? pos + 1 : pos;

    private bool EndsLine(int end) => _src[end - 1] == '\n';

    private int SkipComment(int tag, int contentStart)
    {
        for (int i = contentStart; i < _src.Length; i++)
        {
            int end;
            if (At(i, "+#}"))
                end = i + 3;
            else if (At(i, "-#}"))
                end = SkipWhitespace(i + 3);
            else if (At(i, "#}"))
                end = SkipOneNewline(i + 2);
            else
                continue;

            _lineStarting = EndsLine(end);
            return end;
        }

        throw Error(tag, "missing end of comment tag '#}'");
    }

    /// <summary>
    /// Handles <c>{% raw %}...{% endraw %}</c>, whose body is passed through as text. As in jinja2,
    /// trim_blocks does not apply after the opening tag but does after <c>{% endraw %}</c>.
    /// </summary>
    private bool TryRawBlock(int tag, string textBefore)
    {
        if (!TryMatchRawTag(tag, "raw", trimNewline: false, out char sign, out int bodyStart))
            return false;

        string text = StripBeforeTag(textBefore, sign, isVariable: false);
        if (text.Length > 0)
            Emit(TokenKind.Data, text, _pos);
        _lineStarting = EndsLine(bodyStart);

        for (int i = _src.IndexOf("{%", bodyStart, StringComparison.Ordinal); i >= 0; i = _src.IndexOf("{%", i + 1, StringComparison.Ordinal))
        {
            if (!TryMatchRawTag(i, "endraw", trimNewline: true, out char endSign, out int end))
                continue;

            string body = StripBeforeTag(_src[bodyStart..i], endSign, isVariable: false);
            if (body.Length > 0)
                Emit(TokenKind.Data, body, bodyStart);
            _lineStarting = EndsLine(end);
            _pos = end;
            return true;
        }

        throw Error(tag, "missing end of raw directive '{% endraw %}'");
    }

    /// <summary>Matches <c>{%[-+]? \s* word \s* (-%}\s* | %})</c> (plus <c>+%}</c> and trim_blocks for endraw).</summary>
    private bool TryMatchRawTag(int tag, string word, bool trimNewline, out char sign, out int end)
    {
        sign = '\0';
        end = tag;
        int p = tag + 2;
        if (p < _src.Length && (_src[p] == '-' || _src[p] == '+'))
            sign = _src[p++];
        p = SkipWhitespace(p);
        if (!At(p, word))
            return false;
        p = SkipWhitespace(p + word.Length);

        if (trimNewline && At(p, "+%}"))
            end = p + 3;
        else if (At(p, "-%}"))
            end = SkipWhitespace(p + 3);
        else if (At(p, "%}"))
            end = trimNewline ? SkipOneNewline(p + 2) : p + 2;
        else
            return false;
        return true;
    }

    private int LexName(int start)
    {
        int p = start + 1;
        while (p < _src.Length && (_src[p] == '_' || char.IsLetterOrDigit(_src[p])))
            p++;
        Emit(TokenKind.Name, _src[start..p], start);
        return p;
    }

    /// <summary>Decimal integers and floats, with jinja2's optional '_' digit separators.</summary>
    private int LexNumber(int start)
    {
        int p = SkipDigits(start);
        bool isFloat = false;
        // jinja2's float rule has a (?<!\.) look-behind: "x.1.2" is not the float "1.2".
        bool floatAllowed = start == 0 || _src[start - 1] != '.';
        if (floatAllowed && p + 1 < _src.Length && _src[p] == '.' && char.IsAsciiDigit(_src[p + 1]))
        {
            p = SkipDigits(p + 1);
            isFloat = true;
        }

        if (floatAllowed && p < _src.Length && (_src[p] == 'e' || _src[p] == 'E'))
        {
            int q = p + 1;
            if (q < _src.Length && (_src[q] == '+' || _src[q] == '-'))
                q++;
            if (q < _src.Length && char.IsAsciiDigit(_src[q]))
            {
                p = SkipDigits(q);
                isFloat = true;
            }
        }

        string text = _src[start..p];
        string digits = text.Replace("_", "");
        if (isFloat)
        {
            Emit(TokenKind.Float, text, start, double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        else
        {
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                throw Error(start, $"integer literal {text} is too large");
            Emit(TokenKind.Integer, text, start, value);
        }

        return p;
    }

    private int SkipDigits(int p)
    {
        while (p < _src.Length && (char.IsAsciiDigit(_src[p]) || (_src[p] == '_' && p + 1 < _src.Length && char.IsAsciiDigit(_src[p + 1]))))
            p++;
        return p;
    }

    private int LexString(int start)
    {
        char quote = _src[start];
        var sb = new StringBuilder();
        int p = start + 1;
        while (true)
        {
            if (p >= _src.Length)
                throw Error(start, "unterminated string literal");
            char c = _src[p];
            if (c == quote)
                break;
            if (c != '\\')
            {
                sb.Append(c);
                p++;
                continue;
            }

            if (p + 1 >= _src.Length)
                throw Error(start, "unterminated string literal");
            p = DecodeEscape(p, sb);
        }

        Emit(TokenKind.String, _src[start..(p + 1)], start, sb.ToString());
        return p + 1;
    }

    /// <summary>Python's unicode-escape decoding, which jinja2 applies to string literals; unknown escapes stay as written.</summary>
    private int DecodeEscape(int backslash, StringBuilder sb)
    {
        char e = _src[backslash + 1];
        int next = backslash + 2;
        switch (e)
        {
            case '\n': return next; // line continuation
            case '\\': sb.Append('\\'); return next;
            case '\'': sb.Append('\''); return next;
            case '"': sb.Append('"'); return next;
            case 'a': sb.Append('\a'); return next;
            case 'b': sb.Append('\b'); return next;
            case 'f': sb.Append('\f'); return next;
            case 'n': sb.Append('\n'); return next;
            case 'r': sb.Append('\r'); return next;
            case 't': sb.Append('\t'); return next;
            case 'v': sb.Append('\v'); return next;
            case 'x': return AppendHexEscape(backslash, 2, sb);
            case 'u': return AppendHexEscape(backslash, 4, sb);
            case 'U': return AppendHexEscape(backslash, 8, sb);
        }

        if (e >= '0' && e <= '7')
        {
            int p = backslash + 1;
            int value = 0;
            for (int n = 0; n < 3 && p < _src.Length && _src[p] >= '0' && _src[p] <= '7'; n++, p++)
                value = value * 8 + (_src[p] - '0');
            sb.Append((char)value);
            return p;
        }

        sb.Append('\\').Append(e);
        return next;
    }

    private int AppendHexEscape(int backslash, int digits, StringBuilder sb)
    {
        int start = backslash + 2;
        if (start + digits > _src.Length
            || !int.TryParse(_src.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
            || code > 0x10FFFF)
        {
            throw Error(backslash, $"truncated \\{_src[backslash + 1]} escape in string literal");
        }

        // Python allows lone surrogates in \u escapes; ConvertFromUtf32 does not.
        if (code <= 0xFFFF)
            sb.Append((char)code);
        else
            sb.Append(char.ConvertFromUtf32(code));
        return start + digits;
    }

    private int LexOperator(int pos, Stack<char> brackets)
    {
        foreach (string op in Operators)
        {
            if (!At(pos, op))
                continue;

            switch (op)
            {
                case "(": brackets.Push(')'); break;
                case "[": brackets.Push(']'); break;
                case "{": brackets.Push('}'); break;
                case ")" or "]" or "}":
                    if (brackets.Count == 0)
                        throw Error(pos, $"unexpected '{op}'");
                    char expected = brackets.Pop();
                    if (expected != op[0])
                        throw Error(pos, $"unexpected '{op}', expected '{expected}'");
                    break;
            }

            Emit(TokenKind.Operator, op, pos);
            return pos + op.Length;
        }

        throw Error(pos, $"unexpected character '{_src[pos]}'");
    }

    private bool At(int pos, string s) => pos + s.Length <= _src.Length && string.CompareOrdinal(_src, pos, s, 0, s.Length) == 0;

    private void Emit(TokenKind kind, string text, int offset, object? literal = null) =>
        _tokens.Add(new Token(kind, text, PositionOf(offset), literal));

    private SourcePos PositionOf(int offset)
    {
        int index = _lineStarts.BinarySearch(offset);
        int line = index >= 0 ? index : ~index - 1;
        return new SourcePos(line + 1, offset - _lineStarts[line] + 1);
    }

    private static List<int> LineStarts(string s)
    {
        var starts = new List<int> { 0 };
        for (int i = s.IndexOf('\n'); i >= 0; i = s.IndexOf('\n', i + 1))
            starts.Add(i + 1);
        return starts;
    }

    private TemplateSyntaxException Error(int offset, string message) =>
        new($"{message} at {PositionOf(offset)}");
}
