using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace NotebookLens.Views.Tests;

/// <summary>HTML parsed as a browser parses it (AngleSharp), to assert on elements and text, not on strings.</summary>
public static class Dom
{
    public static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    /// <summary>A view's fragment inside a notebook output's wrapper.</summary>
    public static IDocument Parse(View view) => Parse(new NotebookOutput().Render(view));

    /// <summary>Content of every &lt;template&gt; (chart fragments live there).</summary>
    public static IEnumerable<IDocumentFragment> Templates(IDocument document) =>
        document.QuerySelectorAll("template").Cast<AngleSharp.Html.Dom.IHtmlTemplateElement>().Select(t => (IDocumentFragment)t.Content);
}
