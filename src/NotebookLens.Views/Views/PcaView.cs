using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>A PCA projection as a scatter of the first two components with a label on every point, and the explained variance.</summary>
public static class PcaView
{
    public static View Create(PcaResult result)
    {
        int n = result.Projected.RowCount, components = result.Projected.ColumnCount;
        var x = Enumerable.Range(0, n).Select(i => result.Projected[i, 0]).ToList();
        var y = Enumerable.Range(0, n).Select(i => components > 1 ? result.Projected[i, 1] : 0).ToList();
        var title = result.Layer is int layer ? $"PCA of hidden states (hidden_states[{layer}])" : "PCA";
        string Axis(int c) => c < components ? $"PC{c + 1} ({Format.Percent(result.ExplainedVarianceRatio[c])} of variance)" : "";
        var chart = Plots.Points(x, y, result.Labels.Select(Pieces.TokenText).ToList(), "points", showLabels: n <= 60);
        var html = new HtmlBuilder();
        if (result.Model is not null) Pieces.ModelLine(html, result.Model);
        html.Element("div", "Explained variance: " + string.Join(", ", result.ExplainedVarianceRatio.Select((r, c) => $"PC{c + 1} {Format.Percent(r)}")), Attr.Class("nl-sub"));
        html.Raw(ChartHtml.Render(chart, 640, 480, new Dictionary<string, object>
        {
            ["xaxis"] = Plots.Axis(Axis(0)),
            ["yaxis"] = Plots.Axis(Axis(1)),
            ["showlegend"] = false,
        }));
        var table = new Table<int>().Add("label", i => result.Labels[i]);
        for (int c = 0; c < components; c++)
        {
            int component = c;
            table.AddNumber($"PC{c + 1}", i => Format.Fixed(result.Projected[i, component], 4));
        }
        var text = $"{title}; explained variance: " + string.Join(", ", result.ExplainedVarianceRatio.Select((r, c) => $"PC{c + 1} {Format.Percent(r)}")) + "\n" + table.ToText(Enumerable.Range(0, n));
        return new View(title, html.ToString(), text, HasCharts: true);
    }
}
