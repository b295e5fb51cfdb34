namespace NotebookLens.Views;

/// <summary>
/// What a result looks like: an HTML fragment (no stylesheet or scripts; <see cref="NotebookOutput"/> and
/// <see cref="HtmlReport"/> add those) and the same content as plain text.
/// </summary>
/// <param name="Title">A heading for reports (the fragment does not repeat it).</param>
/// <param name="Html">The fragment's markup, every piece of text escaped.</param>
/// <param name="Text">Plain text for terminals, the CLI and <c>text/plain</c> outputs.</param>
/// <param name="HasCharts">Whether it needs plotly.js.</param>
public sealed record View(string Title, string Html, string Text, bool HasCharts)
{
    public override string ToString() => Text;
}
