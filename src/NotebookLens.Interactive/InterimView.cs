using System.Net;
using System.Text;

namespace NotebookLens.Interactive;

/// <summary>What a command shows: its typed result (for <c>--as</c>) and a titled table standing in for its view.</summary>
sealed record Output(object Value, string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// Minimal HTML and plain text for a command's output until src/NotebookLens.Views provides the real views;
/// then this file goes and <see cref="Output"/> carries the result only.
/// </summary>
static class InterimView
{
    public static (string Html, string Text) Render(Output output)
    {
        var html = new StringBuilder();
        html.Append("<div class=\"notebooklens\"><b>").Append(WebUtility.HtmlEncode(output.Title)).Append("</b>");
        if (output.Columns.Count > 0)
        {
            html.Append("<table><thead><tr>");
            foreach (var column in output.Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var row in output.Rows)
            {
                html.Append("<tr>");
                foreach (var cell in row) html.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</div>");
        var text = new StringBuilder(output.Title).AppendLine();
        if (output.Columns.Count > 0) text.AppendLine(string.Join('\t', output.Columns));
        foreach (var row in output.Rows) text.AppendLine(string.Join('\t', row));
        return (html.ToString(), text.ToString());
    }
}
