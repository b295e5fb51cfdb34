using Microsoft.FSharp.Core;
using NotebookLens.Views.Html;
using Plotly.NET;

namespace NotebookLens.Views.Charts;

/// <summary>
/// A Plotly.NET chart as an HTML fragment that draws offline: <see cref="GenericChart.toChartHTML"/> with
/// <see cref="PlotlyJSReference.NoReference"/> (no script tag, no CDN), placed in a <c>template</c> that our script
/// mounts once <c>window.Plotly</c> exists — so the fragment works whether plotly.js came before it, comes after it
/// (another output), or never (it then says so instead of throwing).
/// </summary>
public static class ChartHtml
{
    static readonly DisplayOptions NoReference = DisplayOptions.init(null, null, null, null, null, null,
        FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NoReference));

    /// <summary>Layout every chart shares: transparent backgrounds and grey grid lines (the text colour follows the page).</summary>
    static readonly Dictionary<string, object> Theme = new()
    {
        ["layout"] = new Dictionary<string, object>
        {
            ["paper_bgcolor"] = "rgba(0,0,0,0)",
            ["plot_bgcolor"] = "rgba(0,0,0,0)",
            ["font"] = new Dictionary<string, object> { ["size"] = 12 },
            ["colorway"] = new[] { "#4285f4", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#e52592", "#f9ab00" },
            ["xaxis"] = Axis,
            ["yaxis"] = Axis,
            ["hoverlabel"] = new Dictionary<string, object> { ["align"] = "left" },
            ["margin"] = new Dictionary<string, object> { ["t"] = 40, ["r"] = 20, ["b"] = 50, ["l"] = 60 },
        },
    };

    static Dictionary<string, object> Axis => new()
    {
        ["gridcolor"] = "rgba(128,128,128,0.25)",
        ["zerolinecolor"] = "rgba(128,128,128,0.5)",
        ["linecolor"] = "rgba(128,128,128,0.5)",
        ["automargin"] = true,
    };

    /// <summary>The chart with our theme and size, as a mountable fragment.</summary>
    public static string Render(GenericChart chart, int width, int height, IReadOnlyDictionary<string, object>? layout = null)
    {
        var l = GenericChart.getLayout(chart);
        l.SetProperty("template", Theme);
        l.SetProperty("width", width);
        l.SetProperty("height", height);
        foreach (var (key, value) in layout ?? new Dictionary<string, object>()) l.SetProperty(key, value);
        var config = GenericChart.getConfig(chart);
        config.SetProperty("displaylogo", false);
        chart = GenericChart.setDisplayOptions(NoReference, GenericChart.setConfig(config, GenericChart.setLayout(l, chart)));
        var fragment = SanitizeScript(GenericChart.toChartHTML(chart));
        var id = "nl-chart-" + Guid.NewGuid().ToString("N");
        var html = new HtmlBuilder();
        html.Open("div", Attr.Class("nl-chart"), ("id", id), ("data-nl-chart", ""));
        html.Open("template").Raw(fragment).Close("template");
        html.Close("div");
        html.Script($"NotebookLensViews.chart('{id}');");
        return html.ToString();
    }

    /// <summary>
    /// Plotly.NET writes the data as JSON straight into its script, unescaped: a token "&lt;/script&gt;" in a label
    /// would end the script. Inside that script, "&lt;/" and "&lt;!--" only occur in string literals, where
    /// "&lt;\/" and "&lt;\!--" mean the same to JavaScript.
    /// </summary>
    internal static string SanitizeScript(string chartHtml)
    {
        const string open = "<script type=\"text/javascript\">";
        int start = chartHtml.IndexOf(open, StringComparison.Ordinal);
        int end = chartHtml.LastIndexOf("</script>", StringComparison.Ordinal);
        if (start < 0 || end < start) throw new InvalidOperationException("Plotly.NET's chart HTML has an unexpected form: " + chartHtml[..Math.Min(200, chartHtml.Length)]);
        start += open.Length;
        var body = chartHtml[start..end].Replace("</", "<\\/").Replace("<!--", "<\\!--");
        return chartHtml[..start] + body + chartHtml[end..];
    }
}
