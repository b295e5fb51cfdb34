using System.Globalization;
using static TorchSharp.torch;

namespace NotebookLens.Views.Tests;

public class TensorViewTests
{
    public TensorViewTests() => Runtime.TorchRuntime.EnsureLoaded();

    [Fact]
    public void Statistics_match_a_plain_computation_over_the_values()
    {
        var values = Enumerable.Range(0, 300 * 7).Select(i => Math.Sin(i * 0.37) * (i % 11)).ToArray();
        using var t = tensor(values.Select(v => (float)v).ToArray()).reshape(300, 7);
        var stats = TensorView.Stats(t)!;
        var floats = values.Select(v => (double)(float)v).ToArray();
        double mean = floats.Average();
        Assert.Equal(floats.Min(), stats.Min, 6);
        Assert.Equal(floats.Max(), stats.Max, 6);
        Assert.Equal(mean, stats.Mean, 6);
        Assert.Equal(Math.Sqrt(floats.Sum(v => (v - mean) * (v - mean)) / floats.Length), stats.Std, 6);
        Assert.Equal(0, stats.NonFinite);
    }

    [Fact]
    public void Non_finite_values_are_counted_and_left_out()
    {
        using var t = tensor(new[] { 1f, float.NaN, 3f, float.PositiveInfinity });
        var stats = TensorView.Stats(t)!;
        Assert.Equal(2, stats.NonFinite);
        Assert.Equal(2.0, stats.Mean);
    }

    [Fact]
    public void The_view_shows_shape_dtype_statistics_edges_and_a_heatmap_of_the_top_left_corner()
    {
        using var t = arange(0, 150 * 120, dtype: ScalarType.Float32).reshape(150, 120) / 1000f;
        var view = TensorView.Create(t, "w", heatmapRows: 100, heatmapCols: 100);
        var doc = Dom.Parse(view);
        var facts = doc.QuerySelectorAll("dl.nl-facts dt").Zip(doc.QuerySelectorAll("dl.nl-facts dd"), (dt, dd) => (dt.TextContent, dd.TextContent)).ToDictionary();
        Assert.Equal("[150, 120]", facts["shape"]);
        Assert.Equal("Float32", facts["dtype"]);
        Assert.Equal("18,000", facts["elements"]);
        Assert.Equal("17.999", facts["max"]);
        var preview = doc.QuerySelector("pre.nl-preview")!.TextContent.Split('\n');
        Assert.Equal(["0", "0.001", "0.002", "…", "0.117", "0.118", "0.119"], preview[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var chart = Assert.Single(ChartJson.All(doc));
        var z = ChartJson.Matrix(chart.Data[0].GetProperty("z"));
        Assert.Equal(100, z.Length);
        Assert.Equal(100, z[0].Length);
        Assert.Equal((99 * 120 + 99) / 1000.0, z[99][99]!.Value, 4);
        Assert.True(view.HasCharts);
        Assert.Contains("shape     [150, 120]", view.Text);
    }

    [Fact]
    public void A_3d_tensor_previews_its_first_matrix_and_draws_no_chart()
    {
        using var t = arange(24, dtype: ScalarType.Int64).reshape(2, 3, 4);
        var view = TensorView.Create(t);
        Assert.False(view.HasCharts);
        var lines = TensorView.Preview(t).Split('\n');
        Assert.Equal("[0, :, :] of [2, 3, 4]", lines[0]);
        Assert.Equal(["8", "9", "10", "11"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(string.Format(CultureInfo.InvariantCulture, "{0}", 23), Dom.Parse(view).QuerySelectorAll("dd")[5].TextContent);
    }
}
