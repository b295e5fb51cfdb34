using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>When a notebook output carries plotly.js (3.6 MB).</summary>
public enum PlotlyDelivery
{
    /// <summary>
    /// The first output with a chart in this session carries it; later ones find <c>window.Plotly</c>. Notebook
    /// front ends (VS Code's output webview, JupyterLab, classic Jupyter) render all outputs of a notebook into one
    /// page, in order, also when a saved notebook is reopened, so one copy serves every chart. The default.
    /// </summary>
    FirstChartOutput,

    /// <summary>Every output with a chart carries it: for front ends that isolate outputs, at 3.6 MB per output.</summary>
    EveryChartOutput,
}

/// <summary>
/// Turns views into notebook outputs for one kernel session. Every output carries the stylesheet and our small
/// script (an output must look right when it is the only one rendered, e.g. after other outputs were cleared);
/// plotly.js goes with the first chart output only (see <see cref="PlotlyDelivery"/>). A chart whose page lacks
/// plotly.js waits for it (an earlier output may render later) and after a few seconds says to run the cell again.
/// </summary>
public sealed class NotebookOutput(PlotlyDelivery delivery = PlotlyDelivery.FirstChartOutput)
{
    readonly Lock _lock = new();
    bool _plotlySent;

    public PlotlyDelivery Delivery { get; } = delivery;

    /// <summary>Whether an output of this session has carried plotly.js.</summary>
    public bool PlotlySent
    {
        get { lock (_lock) return _plotlySent; }
    }

    /// <summary>The <c>text/html</c> of one output.</summary>
    public string Render(View view)
    {
        var html = new HtmlBuilder();
        Assets.WriteStyle(html);
        Assets.WriteLensScript(html);
        if (view.HasCharts && TakePlotly()) Assets.WritePlotlyScript(html);
        html.Open("div", Attr.Class("nl")).Raw(view.Html).Close("div");
        return html.ToString();
    }

    bool TakePlotly()
    {
        lock (_lock)
        {
            if (Delivery == PlotlyDelivery.EveryChartOutput) return true;
            if (_plotlySent) return false;
            _plotlySent = true;
            return true;
        }
    }
}
