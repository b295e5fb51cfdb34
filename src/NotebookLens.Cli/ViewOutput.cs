using NotebookLens.Cli.Commands;
using NotebookLens.Views;

namespace NotebookLens.Cli;

/// <summary>
/// What a verb shows a person is its result's views, the ones notebooks and reports show: their plain text on
/// standard output, and with <c>--html FILE</c> (analysis verbs) the same views as one self-contained HTML page.
/// The CLI formats no result of its own.
/// </summary>
static class ViewOutput
{
    public const string HtmlOption = "html";

    public const string HtmlUsage = "[--html FILE]";

    /// <summary>
    /// Writes the text of <paramref name="views"/> (one view: its text; several: a report's text, each under its title)
    /// unless <c>--json</c> asked for JSON instead; and, when <c>--html</c> was given, the report, saying where on standard error.
    /// </summary>
    public static void Write(CliArgs args, CliIO io, string title, params View[] views)
    {
        var report = new HtmlReport(title);
        foreach (var view in views) report.Add(view);
        if (!args.Flag("json"))
        {
            var text = views.Length == 1 ? views[0].Text : report.ToText();
            io.Output.Write(text.EndsWith('\n') ? text : text + "\n");
        }
        if (args.Get(HtmlOption) is { } path) io.Error.WriteLine($"wrote {report.Save(path)}");
    }
}
