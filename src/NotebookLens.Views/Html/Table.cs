using System.Globalization;
using System.Text;

namespace NotebookLens.Views.Html;

/// <summary>
/// One table definition, rendered both as HTML and as aligned plain text, so the two views of a result cannot
/// drift apart. A column has a header, the cell's text, and optionally richer HTML for the same cell.
/// </summary>
public sealed class Table<T>
{
    readonly List<Column> _columns = [];

    sealed record Column(string Header, Func<T, string> Text, Action<HtmlBuilder, T>? Html, bool Numeric, Func<T, string?>? Title);

    /// <summary>A text column (left aligned).</summary>
    public Table<T> Add(string header, Func<T, string> text, Func<T, string?>? title = null)
    {
        _columns.Add(new Column(header, text, null, false, title));
        return this;
    }

    /// <summary>A number column (right aligned, tabular digits).</summary>
    public Table<T> AddNumber(string header, Func<T, string> text, Func<T, string?>? title = null)
    {
        _columns.Add(new Column(header, text, null, true, title));
        return this;
    }

    /// <summary>A column whose HTML cell is richer than its text (a bar, a chip); the text goes to the text view.</summary>
    public Table<T> AddHtml(string header, Func<T, string> text, Action<HtmlBuilder, T> html, bool numeric = false)
    {
        _columns.Add(new Column(header, text, html, numeric, null));
        return this;
    }

    public void WriteHtml(HtmlBuilder html, IEnumerable<T> rows, string? cssClass = null, Func<T, string?>? rowClass = null)
    {
        html.Open("table", Attr.Class("nl-table" + (cssClass is null ? "" : " " + cssClass)));
        html.Open("thead").Open("tr");
        foreach (var c in _columns) html.Element("th", c.Header, Attr.Class(c.Numeric ? "nl-num" : null));
        html.Close("tr").Close("thead").Open("tbody");
        foreach (var row in rows)
        {
            html.Open("tr", Attr.Class(rowClass?.Invoke(row)));
            foreach (var c in _columns)
            {
                html.Open("td", Attr.Class(c.Numeric ? "nl-num" : null), Attr.Title(c.Title?.Invoke(row)));
                if (c.Html is not null) c.Html(html, row);
                else html.Text(c.Text(row));
                html.Close("td");
            }
            html.Close("tr");
        }
        html.Close("tbody").Close("table");
    }

    public string ToHtml(IEnumerable<T> rows, string? cssClass = null)
    {
        var html = new HtmlBuilder();
        WriteHtml(html, rows, cssClass);
        return html.ToString();
    }

    /// <summary>Columns padded to their widest cell (East Asian wide characters count double), two spaces apart.</summary>
    public string ToText(IEnumerable<T> rows)
    {
        var cells = rows.Select(r => _columns.Select(c => Format.Visible(c.Text(r))).ToArray()).ToList();
        var widths = _columns.Select((c, i) => cells.Select(r => TextWidth.Of(r[i])).Append(TextWidth.Of(c.Header)).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(IReadOnlyList<string> values)
        {
            var parts = values.Select((v, i) => _columns[i].Numeric ? TextWidth.PadLeft(v, widths[i]) : TextWidth.PadRight(v, widths[i]));
            sb.Append(string.Join("  ", parts).TrimEnd()).Append('\n');
        }
        Line(_columns.Select(c => c.Header).ToList());
        Line(widths.Select(w => new string('-', w)).ToList());
        foreach (var r in cells) Line(r);
        return sb.ToString();
    }
}

/// <summary>Display width in a monospace terminal: CJK, fullwidth characters and emoji take two columns, combining marks none.</summary>
public static class TextWidth
{
    public static int Of(string text)
    {
        int width = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format) continue;
            width += IsWide(rune.Value) ? 2 : 1;
        }
        return width;
    }

    public static string PadRight(string text, int width) => text + new string(' ', Math.Max(0, width - Of(text)));

    public static string PadLeft(string text, int width) => new string(' ', Math.Max(0, width - Of(text))) + text;

    static bool IsWide(int c) =>
        c is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
          or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x1F300 and <= 0x1FAFF
          or >= 0x20000 and <= 0x3FFFD;
}
