using System.Text;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// A standalone HTML page of views: the stylesheet, our script and (when any view has a chart) plotly.js inlined
/// once in the head, then one section per view. Opens offline in any browser; nothing is fetched.
/// </summary>
public sealed class HtmlReport(string title = "NotebookLens report")
{
    readonly List<View> _views = [];

    public string Title { get; } = title;

    public IReadOnlyList<View> Views => _views;

    public HtmlReport Add(View view)
    {
        _views.Add(view);
        return this;
    }

    /// <summary>The view of any result <see cref="LensViews.Of"/> knows.</summary>
    public HtmlReport Add(object result) => Add(LensViews.Of(result));

    /// <summary>A paragraph of text of your own between views.</summary>
    public HtmlReport AddNote(string title, string text) =>
        Add(new View(title, new HtmlBuilder().Element("p", text).ToString(), text, HasCharts: false));

    public string ToHtml()
    {
        var html = new HtmlBuilder();
        html.Raw("<!DOCTYPE html>").Open("html", ("lang", "en")).Open("head");
        html.Void("meta", ("charset", "utf-8"));
        html.Void("meta", ("name", "viewport"), ("content", "width=device-width, initial-scale=1"));
        html.Element("title", Title);
        Assets.WriteStyle(html);
        if (_views.Any(v => v.HasCharts)) Assets.WritePlotlyScript(html);
        Assets.WriteLensScript(html);
        html.Close("head");
        html.Open("body", Attr.Class("nl-page")).Open("main", Attr.Class("nl"));
        html.Element("h1", Title);
        foreach (var view in _views)
            html.Element("section", s => s.Element("h2", view.Title).Raw(view.Html));
        html.Close("main").Close("body").Close("html");
        return html.ToString();
    }

    /// <summary>All views as plain text, one after the other under their titles.</summary>
    public string ToText()
    {
        var text = new StringBuilder().Append(Title).Append('\n').Append(new string('=', TextWidth.Of(Title))).Append("\n\n");
        foreach (var view in _views)
            text.Append(view.Title).Append('\n').Append(new string('-', TextWidth.Of(view.Title))).Append('\n').Append(view.Text.TrimEnd()).Append("\n\n");
        return text.ToString();
    }

    /// <summary>Writes the page (UTF-8) and returns its full path.</summary>
    public string Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, ToHtml(), new UTF8Encoding(false));
        return full;
    }
}
