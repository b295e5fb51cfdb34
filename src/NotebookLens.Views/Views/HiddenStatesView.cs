using System.Text;
using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// The hidden states of a prompt: a heatmap of every token's vector norm at every layer (how the stream grows), and
/// per layer its shape and each token's first values, collapsible.
/// </summary>
public static class HiddenStatesView
{
    public static View Create(HiddenStatesResult result)
    {
        var tokens = result.Prompt.Labels.Select(Pieces.TokenText).ToList();
        var layers = result.States.Select(s => s.Label).ToList();
        var z = result.States.Select(s => s.Norms.Select(n => (double?)n).ToArray()).ToArray();
        var chart = Plots.Heatmap(z, hover: "%{y}, token %{x}<br>norm %{z:.2f}<extra></extra>", colorbarTitle: "norm");
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", $"{result.States.Count} hidden states of {tokens.Count} tokens; colour: each token's vector norm", Attr.Class("nl-sub"));
        html.Raw(ChartHtml.Render(chart, Math.Clamp(220 + tokens.Count * 28, 420, 1100), Math.Clamp(140 + layers.Count * 22, 280, 900), new Dictionary<string, object>
        {
            ["xaxis"] = Plots.LabelledAxis(tokens, "token", top: true),
            ["yaxis"] = Plots.LabelledAxis(layers, reversed: true),
        }));
        var text = new StringBuilder();
        foreach (var state in result.States)
        {
            var preview = Preview(result, state);
            html.Open("details").Open("summary").Text($"hidden_states[{state.Index}]: {state.Label}")
                .Element("span", Format.Shape(state.Shape), Attr.Class("nl-count")).Close("summary");
            preview.WriteHtml(html, Enumerable.Range(0, tokens.Count), "nl-mono");
            html.Close("details");
            text.Append($"hidden_states[{state.Index}] {state.Label} {Format.Shape(state.Shape)}\n").Append(preview.ToText(Enumerable.Range(0, tokens.Count))).Append('\n');
        }
        return new View("Hidden states", html.ToString(), text.ToString(), HasCharts: true);
    }

    static Table<int> Preview(HiddenStatesResult result, HiddenState state)
    {
        var table = new Table<int>().Add("token", t => result.Prompt.Labels[t]).AddNumber("norm", t => Format.Fixed(state.Norms[t], 2));
        int width = state.Preview.Count == 0 ? 0 : state.Preview[0].Length;
        for (int i = 0; i < width; i++)
        {
            int column = i;
            table.AddNumber($"[{i}]", t => Format.Fixed(state.Preview[t][column], 3));
        }
        return table;
    }
}
