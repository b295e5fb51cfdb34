using System.Text;

namespace NotebookLens.Views.Html;

/// <summary>
/// Writes HTML with every piece of text escaped on the way in, so no view concatenates markup by hand
/// (token text is hostile: a vocabulary can hold <c>&lt;script&gt;</c>).
/// </summary>
public sealed class HtmlBuilder
{
    readonly StringBuilder _html = new();

    /// <summary>Escapes the five characters that matter in text and in quoted attribute values.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    /// <summary>Escaped text.</summary>
    public HtmlBuilder Text(string? text)
    {
        _html.Append(Escape(text));
        return this;
    }

    /// <summary>Markup made by another builder or view (never raw user text).</summary>
    public HtmlBuilder Raw(string html)
    {
        _html.Append(html);
        return this;
    }

    public HtmlBuilder Open(string tag, params Attr[] attributes)
    {
        _html.Append('<').Append(tag);
        foreach (var a in attributes)
        {
            if (a.Value is null) continue;
            _html.Append(' ').Append(a.Name);
            if (a.Value.Length > 0) _html.Append("=\"").Append(Escape(a.Value)).Append('"');
        }
        _html.Append('>');
        return this;
    }

    public HtmlBuilder Close(string tag)
    {
        _html.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>An element holding escaped text.</summary>
    public HtmlBuilder Element(string tag, string? text, params Attr[] attributes) => Open(tag, attributes).Text(text).Close(tag);

    /// <summary>An element whose content <paramref name="content"/> writes.</summary>
    public HtmlBuilder Element(string tag, Action<HtmlBuilder> content, params Attr[] attributes)
    {
        Open(tag, attributes);
        content(this);
        return Close(tag);
    }

    /// <summary>A void element (<c>img</c>, <c>br</c>).</summary>
    public HtmlBuilder Void(string tag, params Attr[] attributes) => Open(tag, attributes);

    /// <summary>
    /// An inline script. Script text is not parsed as HTML until <c>&lt;/script</c> or <c>&lt;!--</c>, which
    /// must not occur in it; callers pass JSON produced by <see cref="Json"/> or our own code.
    /// </summary>
    public HtmlBuilder Script(string code)
    {
        if (code.Contains("</script", StringComparison.OrdinalIgnoreCase) || code.Contains("<!--", StringComparison.Ordinal))
            throw new ArgumentException("Script text must not contain '</script' or '<!--'.", nameof(code));
        _html.Append("<script>").Append(code).Append("</script>");
        return this;
    }

    public override string ToString() => _html.ToString();
}

/// <summary>An attribute; a null value leaves it out, an empty one writes a bare boolean attribute.</summary>
public readonly record struct Attr(string Name, string? Value)
{
    public static implicit operator Attr((string Name, string? Value) pair) => new(pair.Name, pair.Value);

    public static Attr Class(string? value) => new("class", value);

    public static Attr Title(string? value) => new("title", value);

    /// <summary>Present (bare) when <paramref name="on"/>, absent otherwise.</summary>
    public static Attr Flag(string name, bool on) => new(name, on ? "" : null);
}
