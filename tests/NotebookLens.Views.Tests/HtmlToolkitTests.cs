using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views.Tests;

public class HtmlToolkitTests
{
    const string Hostile = "</script><script>alert(1)</script><b>&\"'";

    [Fact]
    public void Text_and_attributes_are_escaped()
    {
        var html = new HtmlBuilder().Element("span", Hostile, Attr.Title(Hostile)).ToString();
        var span = Dom.Parse(html).QuerySelector("span")!;
        Assert.Equal(Hostile, span.TextContent);
        Assert.Equal(Hostile, span.GetAttribute("title"));
        Assert.Empty(Dom.Parse(html).QuerySelectorAll("script"));
    }

    [Fact]
    public void Script_refuses_text_that_would_end_it() =>
        Assert.Throws<ArgumentException>(() => new HtmlBuilder().Script("var s = '</script>';"));

    [Fact]
    public void One_table_definition_gives_html_and_aligned_text()
    {
        var table = new Table<(string Word, double P)>().Add("word", r => r.Word).AddNumber("p", r => Format.Fixed(r.P, 2));
        var rows = new[] { ("冷", 0.5), ("cold", 0.25) };
        var cells = Dom.Parse(table.ToHtml(rows)).QuerySelectorAll("tbody td").Select(td => td.TextContent).ToList();
        Assert.Equal(["冷", "0.50", "cold", "0.25"], cells);
        var lines = table.ToText(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["word     p", "----  ----", "冷    0.50", "cold  0.25"], lines);
    }

    [Fact]
    public void Chart_labels_cannot_break_out_of_the_chart_script()
    {
        var chart = Plots.Heatmap([[1.0, 2.0]], customdata: new[] { new[] { Hostile, "x" } }, hover: "%{customdata}");
        var doc = Dom.Parse(ChartHtml.Render(chart, 300, 300));
        var fragment = Assert.Single(Dom.Templates(doc));
        var script = Assert.Single(fragment.QuerySelectorAll("script"));
        Assert.Contains("<\\/script><script>alert(1)<\\/script>", script.TextContent);
        Assert.Single(fragment.QuerySelectorAll("div[id]"));
        // Outside the template: the chart's host and the one call that mounts it.
        Assert.Equal("nl-chart", doc.QuerySelector("div[data-nl-chart]")!.ClassName);
        Assert.Contains("NotebookLensViews.chart(", Assert.Single(doc.QuerySelectorAll("body > script")).TextContent);
    }

    [Fact]
    public void Plotly_js_comes_from_plotly_net_and_can_be_inlined()
    {
        Assert.StartsWith("/**", Assets.PlotlyJs.TrimStart());
        Assert.Contains("plotly.js v" + Assets.PlotlyVersion, Assets.PlotlyJs[..400]);
        Assert.DoesNotContain("</script", Assets.PlotlyJs, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Notebook_output_carries_plotly_with_its_first_chart_only()
    {
        var chart = new View("c", "<p>chart</p>", "chart", HasCharts: true);
        var plain = new View("p", "<p>plain</p>", "plain", HasCharts: false);
        var session = new NotebookOutput();
        int PlotlyCopies(string html) => Dom.Parse(html).QuerySelectorAll("script").Count(s => s.TextContent.Contains("plotly.js v" + Assets.PlotlyVersion));
        Assert.Equal(0, PlotlyCopies(session.Render(plain)));
        Assert.Equal(1, PlotlyCopies(session.Render(chart)));
        Assert.Equal(0, PlotlyCopies(session.Render(chart)));
        var every = new NotebookOutput(PlotlyDelivery.EveryChartOutput);
        Assert.Equal(1, PlotlyCopies(every.Render(chart)));
        Assert.Equal(1, PlotlyCopies(every.Render(chart)));
        // Styles and our script go with every output, so any one output renders alone.
        Assert.Single(Dom.Parse(session.Render(plain)).QuerySelectorAll("style"));
    }

    [Fact]
    public void A_report_inlines_styles_plotly_and_our_script_once_and_a_section_per_view()
    {
        var chart = new View("chart <1>", "<p>chart</p>", "chart text", HasCharts: true);
        var report = new HtmlReport("R & D").Add(chart).Add(chart).AddNote("note", "<b>not bold</b>");
        var doc = Dom.Parse(report.ToHtml());
        Assert.Equal("R & D", doc.Title);
        Assert.Single(doc.Head!.QuerySelectorAll("style"));
        Assert.Single(doc.QuerySelectorAll("script"), s => s.TextContent.Contains("plotly.js v" + Assets.PlotlyVersion));
        Assert.Single(doc.QuerySelectorAll("script"), s => s.TextContent.Contains("window.NotebookLensViews = "));
        Assert.Equal(["chart <1>", "chart <1>", "note"], doc.QuerySelectorAll("section > h2").Select(h => h.TextContent));
        Assert.Equal("<b>not bold</b>", doc.QuerySelectorAll("section")[2].QuerySelector("p")!.TextContent);
        Assert.Contains("chart <1>\n---------\nchart text", report.ToText());
        var plain = Dom.Parse(new HtmlReport().Add(new View("t", "<p>x</p>", "x", HasCharts: false)).ToHtml());
        Assert.DoesNotContain(plain.QuerySelectorAll("script"), s => s.TextContent.Contains("plotly.js v"));
    }

    [Fact]
    public void A_matrix_is_a_heatmap_with_its_labels_and_a_table()
    {
        var matrix = new Inspection.Matrix(["a", "<b>"], ["x", "y", "z"], [[1, 2, 3], [4, 5, 6.5]]);
        var view = MatrixView.Create(matrix, "m");
        var chart = Assert.Single(ChartJson.All(Dom.Parse(view)));
        Assert.Equal([[1.0, 2, 3], [4.0, 5, 6.5]], ChartJson.Matrix(chart.Data[0].GetProperty("z")).Select(r => r.Select(v => v!.Value).ToArray()));
        Assert.Equal(["a", "<b>"], chart.Layout.GetProperty("yaxis").GetProperty("ticktext").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["     x  y    z", "---  -  -  ---", "a    1  2    3", "<b>  4  5  6.5"], view.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
