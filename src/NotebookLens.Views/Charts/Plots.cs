using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace NotebookLens.Views.Charts;

/// <summary>
/// The few chart shapes the views use, built with Plotly.NET.CSharp; what it has no argument for (hover templates,
/// custom data, z ranges) is set on the trace object, which Plotly.NET serializes as it is.
/// </summary>
public static class Plots
{
    /// <summary>
    /// A heatmap on numeric axes (cell index), with optional tick labels: categorical axes would merge repeated
    /// tokens into one row. <paramref name="hover"/> is a Plotly hover template over <c>customdata</c>.
    /// </summary>
    public static GenericChart Heatmap(double?[][] z, string colorscale = "Viridis", double? zmin = null, double? zmax = null, double? zmid = null,
        object? customdata = null, string? hover = null, string? colorbarTitle = null)
    {
        // Plotly.NET.CSharp takes no nullable z; the trace's z is replaced by the one with gaps (null: not drawn).
        var chart = CSharpChart.Heatmap<double, int, int, string>(zData: z.Select(row => row.Select(v => v ?? 0)),
            X: Enumerable.Range(0, z.Length == 0 ? 0 : z[0].Length).ToArray(), Y: Enumerable.Range(0, z.Length).ToArray(), UseDefaults: false);
        return WithTrace(chart, new Dictionary<string, object?>
        {
            ["z"] = z,
            ["colorscale"] = colorscale,
            ["zmin"] = zmin,
            ["zmax"] = zmax,
            ["zmid"] = zmid,
            ["customdata"] = customdata,
            ["hovertemplate"] = hover,
            ["colorbar"] = colorbarTitle is null ? null : new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = colorbarTitle } },
        });
    }

    /// <summary>One line per series over shared x values.</summary>
    public static GenericChart Lines(IReadOnlyList<double> x, IEnumerable<(string Name, IReadOnlyList<double> Y)> series, string? hover = null) =>
        Combine(series.Select(s => WithTrace(CSharpChart.Line<double, double, string>(x: x, y: s.Y, ShowMarkers: true, Name: s.Name, UseDefaults: false),
            new Dictionary<string, object?> { ["hovertemplate"] = hover })));

    /// <summary>Vertical bars, one group per series over the same categories; a null value draws no bar.</summary>
    public static GenericChart Columns(IReadOnlyList<string> categories, IEnumerable<(string Name, IReadOnlyList<double?> Values)> series, string? hover = null) =>
        Combine(series.Select(s => WithTrace(
            CSharpChart.Column<double, int, string>(values: s.Values.Select(v => v ?? 0), Keys: Enumerable.Range(0, categories.Count).ToArray(), Name: s.Name, UseDefaults: false),
            new Dictionary<string, object?> { ["y"] = s.Values, ["hovertemplate"] = hover, ["customdata"] = categories })));

    /// <summary>Points with their labels written next to them (or only on hover when <paramref name="showLabels"/> is false).</summary>
    public static GenericChart Points(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<string> labels, string name, bool showLabels = true,
        double markerSize = 8, string? symbol = null) =>
        WithTrace(CSharpChart.Point<double, double, string>(x: x, y: y, Name: name, MultiText: labels.ToArray(), UseDefaults: false),
            new Dictionary<string, object?>
            {
                ["mode"] = showLabels ? "markers+text" : "markers",
                ["textposition"] = "top center",
                ["hovertemplate"] = "%{text}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
                ["marker"] = symbol is null ? new Dictionary<string, object> { ["size"] = markerSize } : new Dictionary<string, object> { ["size"] = markerSize, ["symbol"] = symbol },
            });

    public static GenericChart Combine(IEnumerable<GenericChart> charts) => CSharpChart.Combine(charts.ToList());

    /// <summary>Sets trace attributes Plotly.NET.CSharp has no argument for (null values are left out).</summary>
    static GenericChart WithTrace(GenericChart chart, IReadOnlyDictionary<string, object?> properties)
    {
        foreach (var trace in GenericChart.getTraces(chart))
            foreach (var (key, value) in properties)
                if (value is not null) trace.SetProperty(key, value);
        return chart;
    }

    /// <summary>A numeric axis labelled with text at every index (tokens, layer names).</summary>
    public static Dictionary<string, object> LabelledAxis(IReadOnlyList<string> labels, string? title = null, bool reversed = false, bool top = false)
    {
        var axis = new Dictionary<string, object>
        {
            ["tickmode"] = "array",
            ["tickvals"] = Enumerable.Range(0, labels.Count).ToArray(),
            ["ticktext"] = labels,
            ["automargin"] = true,
        };
        if (title is not null) axis["title"] = new Dictionary<string, object> { ["text"] = title };
        if (reversed) axis["autorange"] = "reversed";
        if (top) axis["side"] = "top";
        return axis;
    }

    public static Dictionary<string, object> Axis(string title, IReadOnlyDictionary<string, object>? more = null)
    {
        var axis = new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = title }, ["automargin"] = true };
        foreach (var (k, v) in more ?? new Dictionary<string, object>()) axis[k] = v;
        return axis;
    }
}
