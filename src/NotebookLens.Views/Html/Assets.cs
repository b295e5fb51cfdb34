using System.Reflection;

namespace NotebookLens.Views.Html;

/// <summary>The stylesheet, our script and plotly.js, read once from embedded resources (nothing from the network).</summary>
public static class Assets
{
    static readonly Lazy<string> Css = new(() => Read(typeof(Assets).Assembly, "NotebookLens.Views.lens.css"));
    static readonly Lazy<string> Script = new(() => Read(typeof(Assets).Assembly, "NotebookLens.Views.lens.js"));
    static readonly Lazy<string> Plotly = new(() => Read(typeof(global::Plotly.NET.GenericChart).Assembly, PlotlyResource));

    /// <summary>The plotly.js that Plotly.NET 6.0.0 carries inside its DLL.</summary>
    public const string PlotlyResource = "Plotly.NET.plotly-2.28.0.min.js";

    public const string PlotlyVersion = "2.28.0";

    public static string Stylesheet => Css.Value;

    public static string LensScript => Script.Value;

    public static string PlotlyJs => Plotly.Value;

    /// <summary>The stylesheet as a <c>style</c> element.</summary>
    public static void WriteStyle(HtmlBuilder html) => html.Open("style").Raw(Stylesheet).Close("style");

    /// <summary>Our script: defines <c>window.NotebookLensViews</c> once.</summary>
    public static void WriteLensScript(HtmlBuilder html) => html.Script(LensScript);

    /// <summary>
    /// plotly.js inline, as a global. It is a UMD bundle: where an AMD loader is present (require.js in Jupyter) it
    /// would register as an anonymous module and never set <c>window.Plotly</c>, so <c>define</c> is hidden while it
    /// runs. Skipped when the page already has Plotly; announces itself so charts that waited can draw.
    /// </summary>
    public static void WritePlotlyScript(HtmlBuilder html) => html.Script(
        "if (!window.Plotly) { (function () { var amd = window.define; window.define = undefined; try {\n" + PlotlyJs +
        "\n} finally { window.define = amd; } })(); }\nwindow.dispatchEvent(new Event('notebooklens-plotly-ready'));");

    static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Resource {name} is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
