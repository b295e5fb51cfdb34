using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>Any labelled <see cref="Matrix"/> (an attention map, first-token attention, a similarity matrix) as a heatmap with its labels, and as a table.</summary>
public static class MatrixView
{
    public static View Create(Matrix matrix, string title = "Matrix")
    {
        var z = matrix.Values.Select(r => r.Select(v => (double?)v).ToArray()).ToArray();
        var custom = Enumerable.Range(0, matrix.RowCount).Select(r => Enumerable.Range(0, matrix.ColumnCount).Select(c => new[] { matrix.Rows[r], matrix.Columns[c] }).ToArray()).ToArray();
        var chart = Plots.Heatmap(z, customdata: custom, hover: "%{customdata[0]} · %{customdata[1]}<br>%{z:.4g}<extra></extra>");
        var html = ChartHtml.Render(chart, Math.Clamp(200 + matrix.ColumnCount * 24, 380, 1000), Math.Clamp(140 + matrix.RowCount * 22, 300, 900), new Dictionary<string, object>
        {
            ["xaxis"] = Plots.LabelledAxis(matrix.Columns.Select(Pieces.TokenText).ToList(), top: true),
            ["yaxis"] = Plots.LabelledAxis(matrix.Rows.Select(Pieces.TokenText).ToList(), reversed: true),
        });
        var table = new Table<int>().Add("", r => matrix.Rows[r]);
        for (int c = 0; c < matrix.ColumnCount; c++)
        {
            int column = c;
            table.AddNumber(matrix.Columns[c], r => Format.Number(matrix[r, column]));
        }
        return new View(title, html, table.ToText(Enumerable.Range(0, matrix.RowCount)), HasCharts: true);
    }
}
