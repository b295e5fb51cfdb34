using System.CommandLine;
using NotebookLens.Cli.Commands;
using NotebookLens.Views;

namespace NotebookLens.Cli;

/// <summary>
/// What a verb shows a person is its result's views, the ones notebooks and reports show: their plain text on
/// standard output, and with <c>--html FILE</c> (analysis verbs) the same views as one self-contained HTML page.
/// The CLI formats no result of its own. With <c>--json</c> the verb prints JSON instead of the text.
/// </summary>
sealed class ViewOutput
{
    readonly Option<bool>? _json;
    readonly Option<string>? _html;

    /// <param name="json">What <c>--json</c> prints, when the verb has it.</param>
    /// <param name="html">The verb writes its views as a page with <c>--html FILE</c>.</param>
    public ViewOutput(Verb verb, string? json, bool html)
    {
        if (json is not null) _json = verb.Declare(CliOptions.Json(json));
        if (html)
            _html = verb.Declare(CliOptions.Text("--html", "FILE",
                "Also write what is shown as one self-contained HTML page (interactive views, works offline) to FILE; open it in a browser."));
    }

    public bool Json(ParseResult args) => _json is not null && args.GetValue(_json);

    /// <summary>
    /// Writes the text of <paramref name="views"/> (one view: its text; several: a report's text, each under its title)
    /// unless <c>--json</c> asked for JSON instead; and, when <c>--html</c> was given, the report, saying where on standard error.
    /// </summary>
    public void Write(ParseResult args, CliIO io, string title, params View[] views)
    {
        var report = new HtmlReport(title);
        foreach (var view in views) report.Add(view);
        if (!Json(args))
        {
            var text = views.Length == 1 ? views[0].Text : report.ToText();
            io.Output.Write(text.EndsWith('\n') ? text : text + "\n");
        }
        if (_html is not null && args.GetValue(_html) is { } path) io.Error.WriteLine($"wrote {report.Save(path)}");
    }
}
