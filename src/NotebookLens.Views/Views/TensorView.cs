using System.Text;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;
using TorchSharp;
using static TorchSharp.torch;
using NotebookLens.Runtime;

namespace NotebookLens.Views;

/// <summary>Summary statistics of a tensor, computed in float64.</summary>
public sealed record TensorStats(long Count, double Min, double Max, double Mean, double Std, long NonFinite);

/// <summary>
/// A TorchSharp tensor: shape, dtype, device, element count, min/max/mean/std and a preview of its values (edges,
/// as PyTorch prints them); a 2-D tensor also as a heatmap of its top-left corner (at most 100 x 100 by default).
/// </summary>
public static class TensorView
{
    /// <summary>Rows and columns of a heatmap when none are asked for.</summary>
    public const int DefaultHeatmapSize = 100;

    /// <summary>Elements converted to float64 at a time, so a 400M-element embedding table needs no 3 GB copy.</summary>
    const long Chunk = 1 << 22;

    public static View Create(Tensor tensor, string? name = null, int heatmapRows = DefaultHeatmapSize, int heatmapCols = DefaultHeatmapSize)
    {
        var stats = Stats(tensor);
        var facts = Facts(tensor, stats);
        var preview = Preview(tensor);
        var html = new HtmlBuilder();
        Pieces.Facts(html, facts);
        html.Element("pre", preview, Attr.Class("nl-preview"));
        bool chart = tensor.dim() == 2 && tensor.numel() > 0 && tensor.dtype != ScalarType.Bool;
        if (chart) html.Raw(Heatmap(tensor, heatmapRows, heatmapCols));
        var title = name is null ? "Tensor" : $"Tensor {name}";
        return new View(title, html.ToString(), Pieces.FactsText(facts) + preview + "\n", chart);
    }

    static List<(string, string)> Facts(Tensor t, TensorStats? s)
    {
        var facts = new List<(string, string)>
        {
            ("shape", Format.Shape(t.shape)),
            ("dtype", t.dtype.ToString()),
            ("device", t.device.ToString()),
            ("elements", Format.Count(t.numel())),
        };
        if (s is not null)
        {
            facts.Add(("min", Format.Number(s.Min)));
            facts.Add(("max", Format.Number(s.Max)));
            facts.Add(("mean", Format.Number(s.Mean)));
            facts.Add(("std", Format.Number(s.Std)));
            if (s.NonFinite > 0) facts.Add(("NaN or ±inf", Format.Count(s.NonFinite)));
        }
        return facts;
    }

    /// <summary>Min, max, mean and (population) standard deviation over the finite elements; null when empty or complex.</summary>
    public static TensorStats? Stats(Tensor tensor)
    {
        if (tensor.numel() == 0 || tensor.is_complex()) return null;
        using var scope = NewDisposeScope();
        var flat = tensor.detach().flatten();
        long n = flat.shape[0], finite = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        for (long start = 0; start < n; start += Chunk)
        {
            using var inner = NewDisposeScope();
            var chunk = flat.narrow(0, start, Math.Min(Chunk, n - start)).to(ScalarType.Float64, CPU);
            var ok = chunk.isfinite();
            var values = chunk.masked_select(ok);
            long count = values.shape[0];
            if (count == 0) continue;
            finite += count;
            min = Math.Min(min, values.min().item<double>());
            max = Math.Max(max, values.max().item<double>());
            sum += values.sum().item<double>();
        }
        if (finite == 0) return new TensorStats(n, double.NaN, double.NaN, double.NaN, double.NaN, n);
        double mean = sum / finite, squares = 0;
        for (long start = 0; start < n; start += Chunk)
        {
            using var inner = NewDisposeScope();
            var chunk = flat.narrow(0, start, Math.Min(Chunk, n - start)).to(ScalarType.Float64, CPU);
            squares += (chunk.masked_select(chunk.isfinite()) - mean).square().sum().item<double>();
        }
        return new TensorStats(n, min, max, mean, Math.Sqrt(squares / finite), n - finite);
    }

    /// <summary>The values at the edges, as PyTorch prints them: 3 first and last per dimension (all when 6 or fewer); more than 2 dims: the first matrix.</summary>
    public static string Preview(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var t = tensor.detach();
        var prefix = "";
        while (t.dim() > 2)
        {
            prefix += "0, ";
            t = t[0];
        }
        if (t.numel() == 0) return "(empty)";
        if (t.dim() == 0) return Value(t);
        var sb = new StringBuilder();
        if (prefix.Length > 0) sb.Append($"[{prefix}:, :] of {Format.Shape(tensor.shape)}\n");
        var matrix = t.dim() == 1 ? t.unsqueeze(0) : t;
        var rows = Edges(matrix.shape[0]);
        var cols = Edges(matrix.shape[1]);
        var cells = rows.Select(r => cols.Select(c => r is null || c is null ? "…" : Value(matrix[r.Value, c.Value])).ToArray()).ToList();
        int width = cells.SelectMany(r => r).Max(s => s.Length);
        foreach (var row in cells) sb.Append(string.Join(" ", row.Select(s => s.PadLeft(width)))).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    static List<long?> Edges(long n) => n <= 6
        ? Enumerable.Range(0, (int)n).Select(i => (long?)i).ToList()
        : [0, 1, 2, null, n - 3, n - 2, n - 1];

    static string Value(Tensor scalar) => scalar.dtype switch
    {
        ScalarType.Bool => scalar.item<bool>() ? "True" : "False",
        _ when scalar.is_floating_point() => Format.Number(scalar.to(ScalarType.Float64).item<double>()),
        _ when scalar.is_complex() => Format.Number(scalar.real.to(ScalarType.Float64).item<double>()) + "+" + Format.Number(scalar.imag.to(ScalarType.Float64).item<double>()) + "i",
        _ => Format.Int(scalar.to(ScalarType.Int64).item<long>()),
    };

    /// <summary>The top-left <paramref name="rows"/> x <paramref name="cols"/> of a matrix as a diverging heatmap centred on 0.</summary>
    public static string Heatmap(Tensor matrix, int rows = DefaultHeatmapSize, int cols = DefaultHeatmapSize)
    {
        if (matrix.dim() != 2) throw new ArgumentException($"A heatmap needs a 2-D tensor, not {Format.Shape(matrix.shape)}.", nameof(matrix));
        using var scope = NewDisposeScope();
        int r = (int)Math.Min(rows, matrix.shape[0]), c = (int)Math.Min(cols, matrix.shape[1]);
        var values = matrix.detach()[..r, ..c].to(ScalarType.Float64, CPU).contiguous().ToHostArray<double>();
        var z = Enumerable.Range(0, r).Select(i => Enumerable.Range(0, c).Select(j => (double?)values[i * c + j]).ToArray()).ToArray();
        double bound = values.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(1).Max();
        var chart = Plots.Heatmap(z, "RdBu", zmin: -bound, zmax: bound, hover: "row %{y}, column %{x}<br>%{z:.4g}<extra></extra>");
        int size = Math.Clamp(Math.Max(r, c) * 5, 260, 620);
        var layout = new Dictionary<string, object>
        {
            ["xaxis"] = Plots.Axis("column", new Dictionary<string, object> { ["side"] = "top" }),
            ["yaxis"] = Plots.Axis("row", new Dictionary<string, object> { ["autorange"] = "reversed", ["scaleanchor"] = "x" }),
        };
        var caption = new HtmlBuilder().Element("div", $"rows 0..{r - 1}, columns 0..{c - 1} of {Format.Shape(matrix.shape)}", Attr.Class("nl-sub")).ToString();
        return caption + ChartHtml.Render(chart, size + 120, size + 60, layout);
    }
}
