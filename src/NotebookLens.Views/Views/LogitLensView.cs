using System.Text;
using NotebookLens.Inspection;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// The logit lens as a grid: one row per layer (the embedding output first), one column per input token (the
/// tokens as column headers); each cell shows the top prediction, tinted by its probability; hovering shows the
/// top-k with probabilities and logits, and every target's rank. The text view is the same grid of top tokens.
/// </summary>
public static class LogitLensView
{
    public static View Create(LogitLensResult result)
    {
        int rows = result.LayerLabels.Count, columns = result.PositionLabels.Count;
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", Reading(result) + "; cell colour: probability of the top token. Hover a cell for the top " + (result.Top.Length > 0 && result.Top[0].Length > 0 ? result.Top[0][0].Length : 0)
            + (result.Targets.Count > 0 ? " and the targets' ranks." : "."), Attr.Class("nl-sub"));
        html.Open("div", Attr.Class("nl-scroll")).Open("table", Attr.Class("nl-lens"));
        html.Open("thead").Open("tr").Element("th", "layer", Attr.Class("nl-layer"));
        for (int p = 0; p < columns; p++)
        {
            var token = result.Prompt.Tokens[result.Positions[p]];
            html.Element("th", Pieces.TokenText(token.Text), Attr.Title($"position {token.Index}, id {token.Id}\nvocabulary: {token.Raw}"), Attr.Class(token.Special ? "nl-special" : null));
        }
        html.Close("tr").Close("thead").Open("tbody");
        for (int r = 0; r < rows; r++)
        {
            html.Open("tr").Element("th", result.LayerLabels[r], Attr.Class("nl-layer"));
            for (int p = 0; p < columns; p++)
            {
                var top = result.Top[r][p][0];
                html.Element("td", Pieces.TokenText(top.Text), ("style", Pieces.ProbabilityBackground(top.Probability)), Attr.Title(Tooltip(result, r, p)),
                    ("data-p", Format.Fixed(top.Probability, 4)));
            }
            html.Close("tr");
        }
        html.Close("tbody").Close("table").Close("div");
        foreach (var (target, ranks) in result.Targets)
        {
            html.Element("h3", $"Target {target}: rank per layer at the last position");
            TargetTable(ranks, columns, result.LayerLabels).WriteHtml(html, Enumerable.Range(0, rows));
        }
        return new View("Logit lens", html.ToString(), Text(result), HasCharts: false);
    }

    static string Tooltip(LogitLensResult result, int row, int position)
    {
        var sb = new StringBuilder($"layer {result.LayerLabels[row]}, after {result.PositionLabels[position]} (position {result.Positions[position]})\n");
        var predictions = result.Top[row][position];
        for (int k = 0; k < predictions.Length; k++)
            sb.Append($"{k + 1}. {predictions[k].Text}  {Format.Percent(predictions[k].Probability)}  (logit {Format.Fixed(predictions[k].Logit, 2)})\n");
        foreach (var (target, ranks) in result.Targets)
            sb.Append($"target {target}: rank {ranks[row][position].Rank}, {Format.Percent(ranks[row][position].Probability)}\n");
        return sb.ToString().TrimEnd();
    }

    static string Reading(LogitLensResult result) => result.FinalNormApplied
        ? "Each layer's stream through the final norm and the LM head (the last row is the model's prediction)"
        : "Each layer's raw stream through the LM head (no final norm)";

    static string Text(LogitLensResult result)
    {
        var layers = Enumerable.Range(0, result.LayerLabels.Count);
        var grid = new Table<int>().Add("layer", r => result.LayerLabels[r]);
        for (int p = 0; p < result.PositionLabels.Count; p++)
        {
            int position = p;
            grid.Add(result.PositionLabels[p], r => Prediction(result.Top[r][position][0], 2));
        }
        int last = result.PositionLabels.Count - 1, k = result.Top.Length > 0 && result.Top[0].Length > 0 ? result.Top[0][0].Length : 0;
        var text = new StringBuilder($"{Reading(result)}; each cell: the top token after that input token, and its probability.\n")
            .Append(grid.ToText(layers));
        if (k > 1 && last >= 0)
        {
            var top = new Table<int>().Add("layer", r => result.LayerLabels[r]);
            for (int i = 0; i < k; i++)
            {
                int rank = i;
                top.Add($"#{i + 1}", r => Prediction(result.Top[r][last][rank], 3));
            }
            text.Append($"\ntop {k} after {Pieces.TokenText(result.PositionLabels[last])} (the next token)\n").Append(top.ToText(layers));
        }
        foreach (var (target, ranks) in result.Targets)
            text.Append($"\ntarget {target} at the last position\n").Append(TargetTable(ranks, result.PositionLabels.Count, result.LayerLabels).ToText(Enumerable.Range(0, result.LayerLabels.Count)));
        return text.ToString();
    }

    static string Prediction(LensPrediction p, int decimals) => p.Text + " " + Format.Fixed(p.Probability, decimals);

    static Table<int> TargetTable(LensTarget[][] ranks, int columns, IReadOnlyList<string> layers) => new Table<int>()
        .Add("layer", r => layers[r])
        .AddNumber("rank", r => Format.Int(ranks[r][columns - 1].Rank))
        .AddHtml("probability", r => Format.Percent(ranks[r][columns - 1].Probability),
            (html, r) => { Pieces.Bar(html, ranks[r][columns - 1].Probability, 1); html.Text(" " + Format.Percent(ranks[r][columns - 1].Probability)); }, numeric: true);
}
