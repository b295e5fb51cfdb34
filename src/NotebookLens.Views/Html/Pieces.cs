using NotebookLens.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Views.Html;

/// <summary>Small pieces several views share: fact lists, bars, token text.</summary>
public static class Pieces
{
    /// <summary>A two-column list of facts (architecture, tensor statistics).</summary>
    public static void Facts(HtmlBuilder html, IEnumerable<(string Name, string Value)> facts)
    {
        html.Open("dl", Attr.Class("nl-facts"));
        foreach (var (name, value) in facts) html.Element("dt", name).Element("dd", value);
        html.Close("dl");
    }

    /// <summary>Facts as aligned text lines.</summary>
    public static string FactsText(IEnumerable<(string Name, string Value)> facts)
    {
        var list = facts.ToList();
        int width = list.Count == 0 ? 0 : list.Max(f => TextWidth.Of(f.Name));
        return string.Concat(list.Select(f => TextWidth.PadRight(f.Name, width) + "  " + f.Value + "\n"));
    }

    /// <summary>Which model a result came from, as one faint line (results of models loaded side by side stay apart).</summary>
    public static void ModelLine(HtmlBuilder html, ModelRef model) => html.Element("div", ModelText(model), Attr.Class("nl-note"));

    public static string ModelText(ModelRef model) => $"{model.Name} · {model.ModelType} · {model.DType} on {model.Device}";

    /// <summary>A horizontal bar for a value in [0, max] (negative values draw red, by magnitude).</summary>
    public static void Bar(HtmlBuilder html, double value, double max)
    {
        double fraction = max > 0 ? Math.Clamp(Math.Abs(value) / max, 0, 1) : 0;
        html.Open("span", Attr.Class(value < 0 ? "nl-bar nl-neg" : "nl-bar"))
            .Open("span", ("style", "width:" + Format.Fixed(fraction * 100, 1) + "%")).Close("span")
            .Close("span");
    }

    /// <summary>
    /// Token text with whitespace made visible (a leading space as ·, newline ↵, tab →), for chips and grids; the label of
    /// a vocabulary row without a token (<see cref="HfTokenizer.ModelTokenText"/>) is not token text and stays as it is.
    /// </summary>
    public static string TokenText(string text) =>
        text.Length == 0 ? "∅"
        : HfTokenizer.IsNoTokenLabel(text) ? text
        : text.Replace(' ', '·').Replace("\n", "↵").Replace("\t", "→").Replace("\r", "␍");

    /// <summary>A background for a probability: the accent colour with p as its opacity (reads on light and dark).</summary>
    public static string ProbabilityBackground(double p) =>
        "background:rgba(66,133,244," + Format.Fixed(Math.Clamp(p, 0, 1) * 0.85, 3) + ")";
}
