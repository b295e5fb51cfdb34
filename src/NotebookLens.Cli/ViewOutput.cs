using System.CommandLine;
using NotebookLens.Cli.Commands;
using NotebookLens.Views;

namespace NotebookLens.Cli;

/// <summary>
/// What a verb shows a person is its result's views, the ones notebooks and reports show: their plain text on
/// standard output, and with <c>--html FILE</c> (analysis verbs) the same views as one self-contained HTML page.
/// The CLI formats no result of its own. With <c>--json</c> the verb prints JSON for scripts instead of the text.
/// </summary>
sealed class ViewOutput
{
    readonly Option<bool>? _json;
    readonly Option<string>? _html;

    /// <param name="json">What <c>--json</c> prints (for its help), when the verb has it.</param>
    /// <param name="html">The verb writes its views as a page with <c>--html FILE</c>.</param>
    public ViewOutput(Verb verb, string? json, bool html)
    {
        if (json is not null) _json = verb.Declare(CliOptions.Json(json));
        if (html)
            _html = verb.Declare(CliOptions.Text("--html", "FILE",
                "Also write what is shown as one self-contained HTML page (interactive views, works offline) to FILE; open it in a browser."));
    }

    /// <summary>
    /// Writes the text of <paramref name="views"/> (one view: its text; several: a report's text, each under its title),
    /// or with <c>--json</c> one line of the JSON <paramref name="json"/> makes; and, when <c>--html</c> was given, the
    /// views as a report, saying where on standard error.
    /// </summary>
    public void Write(ParseResult args, CliIO io, string title, IReadOnlyList<View> views, Func<object>? json = null)
    {
        var report = new HtmlReport(title);
        foreach (var view in views) report.Add(view);
        if (_json is not null && args.GetValue(_json)) io.Output.WriteLine(CliJson.Serialize(json!()));
        else
        {
            var text = views.Count == 1 ? views[0].Text : report.ToText();
            io.Output.Write(text.EndsWith('\n') ? text : text + "\n");
        }
        if (_html is not null && args.GetValue(_html) is { } path) io.Error.WriteLine($"wrote {report.Save(path)}");
    }
}
