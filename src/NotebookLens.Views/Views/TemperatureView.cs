using System.Text;
using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// The next-token distribution at several temperatures: grouped bars of the top tokens (in the order of the first
/// temperature's ranking; a token outside a temperature's top k has no bar there) and each temperature's entropy.
/// </summary>
public static class TemperatureView
{
    public static View Create(TemperatureResult result)
    {
        var distributions = result.Distributions;
        var prompt = result.Prompt.Text;
        var tokens = distributions.SelectMany(d => d.Top).Select(p => p.Id).Distinct().ToList();
        var text = distributions.SelectMany(d => d.Top).GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First().Text);
        var labels = tokens.Select(id => Pieces.TokenText(text[id])).ToList();
        var series = distributions.Select(d =>
        {
            var byId = d.Top.ToDictionary(p => p.Id, p => p.Probability);
            return ($"T = {Format.Number(d.Temperature)}", (IReadOnlyList<double?>)tokens.Select(id => byId.TryGetValue(id, out var p) ? p : (double?)null).ToList());
        });
        var chart = Plots.Columns(labels, series, hover: "%{customdata}: %{y:.3f}");
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", c => c.Text("After ").Element("code", prompt), Attr.Class("nl-sub"));
        html.Element("div", "Entropy: " + string.Join(", ", distributions.Select(d => $"T = {Format.Number(d.Temperature)}: {Format.Fixed(d.Entropy, 3)} nats")), Attr.Class("nl-sub"));
        html.Raw(ChartHtml.Render(chart, Math.Clamp(200 + labels.Count * 40, 480, 1000), 380, new Dictionary<string, object>
        {
            ["barmode"] = "group",
            ["xaxis"] = Plots.LabelledAxis(labels, "next token"),
            ["yaxis"] = Plots.Axis("probability", new Dictionary<string, object> { ["range"] = new[] { 0.0, 1.0 } }),
        }));
        var sb = new StringBuilder($"after: {prompt}\n");
        foreach (var d in distributions)
        {
            var table = new Table<LensPrediction>().Add("token", p => p.Text).AddNumber("id", p => Format.Int(p.Id)).AddNumber("p", p => Format.Fixed(p.Probability, 4));
            sb.Append($"T = {Format.Number(d.Temperature)}, entropy {Format.Fixed(d.Entropy, 3)} nats\n").Append(table.ToText(d.Top)).Append('\n');
        }
        return new View("Next token at several temperatures", html.ToString(), sb.ToString(), HasCharts: true);
    }
}
