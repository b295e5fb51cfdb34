using System.Text;
using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// Contextual similarity: two line charts over layers — raw cosine and normalised by the layer's baseline —
/// with one line per pair of word occurrences, and the pair matrix (raw and normalised) of every layer, the
/// middle one open.
/// </summary>
public static class SimilarityView
{
    const string Note = "Cosine similarity of the hidden states of each pair of occurrences, per layer; normalised = raw / the mean similarity of all token pairs at that layer.";

    public static View Create(SimilarityResult result)
    {
        int n = result.Items.Count, layers = result.Layers;
        var names = result.Items.Select((item, i) => $"{item.Word} ({Short(item.Sentence)})").ToList();
        var pairs = (from i in Enumerable.Range(0, n) from j in Enumerable.Range(i + 1, n - i - 1) select (I: i, J: j)).ToList();
        var x = Enumerable.Range(0, layers).Select(l => (double)l).ToList();
        string Chart(IReadOnlyList<Matrix> values, string title) => new HtmlBuilder().Element("div", title, Attr.Class("nl-sub")).ToString() + ChartHtml.Render(
            Plots.Lines(x, pairs.Select(p => ($"{names[p.I]} ~ {names[p.J]}", (IReadOnlyList<double>)values.Select(m => m[p.I, p.J]).ToList())),
                hover: "layer %{x}: %{y:.3f}"),
            560, 440, new Dictionary<string, object>
            {
                ["xaxis"] = Plots.Axis("hidden_states index (0 = embeddings)", new Dictionary<string, object> { ["dtick"] = 1 }),
                ["yaxis"] = Plots.Axis(title),
                ["legend"] = new Dictionary<string, object> { ["orientation"] = "h", ["y"] = -0.3, ["yanchor"] = "top" },
            });

        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", Note, Attr.Class("nl-sub"));
        html.Open("div", Attr.Class("nl-cols"))
            .Element("div", c => c.Raw(Chart(result.Raw, "raw cosine")))
            .Element("div", c => c.Raw(Chart(result.Normalized, "normalised")))
            .Close("div");
        html.Element("h3", "Pair matrix per layer (raw / normalised)");
        int middle = layers / 2;
        for (int l = 0; l < layers; l++)
        {
            html.Open("details", Attr.Flag("open", l == middle));
            html.Open("summary").Text($"layer {l}").Element("span", $"baseline {Format.Fixed(result.Baseline[l], 3)}", Attr.Class("nl-count")).Close("summary");
            Matrix(result, l, names).WriteHtml(html, Enumerable.Range(0, n));
            html.Close("details");
        }

        var text = new StringBuilder(Note + " Layer l is hidden_states[l] (0 = the embedding output).\n");
        for (int i = 0; i < n; i++) text.Append($"[{i}] {result.Items[i].Word} in \"{result.Items[i].Sentence}\" (token {result.TokenIndices[i]}: {result.TokenTexts[i]})\n");
        var overLayers = new Table<int>().AddNumber("layer", l => Format.Int(l)).AddNumber("baseline", l => Format.Fixed(result.Baseline[l], 3));
        foreach (var (i, j) in pairs)
        {
            overLayers.AddNumber($"[{i}]~[{j}] raw", l => Format.Fixed(result.Raw[l][i, j], 3));
            overLayers.AddNumber($"[{i}]~[{j}] norm", l => Format.Fixed(result.Normalized[l][i, j], 3));
        }
        text.Append(overLayers.ToText(Enumerable.Range(0, layers)));
        return new View($"Contextual similarity of {string.Join(", ", result.Items.Select(i => i.Word).Distinct())}", html.ToString(), text.ToString(), HasCharts: true);
    }

    static Table<int> Matrix(SimilarityResult result, int layer, IReadOnlyList<string> names)
    {
        var table = new Table<int>().Add("", i => $"[{i}] {names[i]}");
        for (int j = 0; j < names.Count; j++)
        {
            int column = j;
            table.AddNumber($"[{j}]", i => $"{Format.Fixed(result.Raw[layer][i, column], 3)} / {Format.Fixed(result.Normalized[layer][i, column], 3)}");
        }
        return table;
    }

    static string Short(string sentence) => sentence.Length <= 32 ? sentence : sentence[..30] + "…";
}
