using NotebookLens.Cli.Commands;
using NotebookLens.Views;

namespace NotebookLens.Cli;

/// <summary>
/// <c>--html FILE</c> of the analysis verbs: the result's views (the ones notebooks show) written as one
/// self-contained HTML page that opens offline; the verb's text or JSON output is unchanged.
/// </summary>
static class HtmlOutput
{
    public const string Option = "html";

    public const string Usage = "[--html FILE]";

    /// <summary>Writes a report of <paramref name="views"/> when <c>--html</c> was given, and says where on standard error.</summary>
    public static void Write(CliArgs args, CliIO io, string title, params View[] views)
    {
        if (args.Get(Option) is not { } path) return;
        var report = new HtmlReport(title);
        foreach (var view in views) report.Add(view);
        io.Error.WriteLine($"wrote {report.Save(path)}");
    }
}
