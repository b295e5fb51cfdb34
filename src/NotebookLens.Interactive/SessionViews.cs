using NotebookLens.Views;
using NotebookLens.Views.Html;
using Usage = NotebookLens.Interactive.ModelMagic.Usage;

namespace NotebookLens.Interactive;

/// <summary>Views of what only the notebook has: the loaded models and the help of <c>#!model</c>.</summary>
static class SessionViews
{
    public static View Models(ModelRegistry registry)
    {
        var models = registry.Models;
        var title = models.Count == 0 ? "No model loaded: commands use tiny (loaded on first use)." : $"Loaded models: {models.Count}";
        var table = new Table<LensModel>()
            .Add("", m => m.Name == registry.Current ? "*" : "", m => m.Name == registry.Current ? "the current model" : null)
            .Add("name", m => m.Name)
            .Add("source", m => m.Source)
            .Add("type", m => m.Config.ModelType)
            .AddNumber("parameters", m => Format.Count(m.Model.NumParameters))
            .Add("dtype", m => m.Ref.DType)
            .Add("device", m => m.Ref.Device);
        return Titled(title, table, models);
    }

    public static View Help(IEnumerable<Usage> usages) => Titled(
        "#!model subcommands (each also takes --model N to pick a loaded model and --as VAR to put its result into a C# variable)",
        new Table<Usage>().Add("subcommand", u => u.Name).Add("usage", u => "#!model " + u.Syntax).Add("what it does", u => u.Description),
        usages);

    /// <summary>A view with a note above it (what a command did), in both HTML and text.</summary>
    public static View WithNote(string note, View view)
    {
        var html = new HtmlBuilder().Element("div", note, Attr.Class("nl-note")).Raw(view.Html);
        return view with { Html = html.ToString(), Text = note + "\n" + view.Text };
    }

    /// <summary>One line of text, as a note.</summary>
    public static View Line(string text) =>
        new(text, new HtmlBuilder().Element("div", text, Attr.Class("nl-note")).ToString(), text, HasCharts: false);

    static View Titled<T>(string title, Table<T> table, IEnumerable<T> rows)
    {
        var list = rows.ToList();
        var html = new HtmlBuilder().Element("div", title, Attr.Class("nl-note"));
        table.WriteHtml(html, list);
        return new View(title, html.ToString(), title + "\n" + table.ToText(list), HasCharts: false);
    }
}
