using NotebookLens.Inspection;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>MLP neurons: the most active neurons of a prompt, or the tokens where one neuron fires most, with activation bars.</summary>
public static class NeuronsView
{

    public static View Create(NeuronsResult result)
    {
        var activations = result.Activations;
        var prompts = result.Prompts.Count > 1 ? result.Prompts.Select(p => p.Text).ToList() : null;
        var title = result.Neuron is int n ? $"Where neuron {n} of layer {result.Layer} fires" : $"Most active neurons, layer {result.Layer}";
        double max = activations.Select(a => Math.Abs(a.Activation)).DefaultIfEmpty(1).Max();
        var table = new Table<NeuronActivation>()
            .AddNumber("neuron", a => Format.Int(a.Neuron))
            .AddHtml("token", a => a.Token, (html, a) => html.Element("code", Pieces.TokenText(a.Token)))
            .AddNumber("position", a => Format.Int(a.Position));
        if (prompts is not null)
            table.Add("prompt", a => a.Prompt >= 0 && a.Prompt < prompts.Count ? prompts[a.Prompt] : Format.Int(a.Prompt));
        table.AddHtml("activation", a => Format.Number(a.Activation),
            (html, a) => { Pieces.Bar(html, a.Activation, max); html.Text(" " + Format.Number(a.Activation)); }, numeric: true);
        var note = $"act(gate) · up, the input of down_proj (blocks.{result.Layer}.mlp.hook_post)";
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", note, Attr.Class("nl-sub"));
        table.WriteHtml(html, activations);
        return new View(title, html.ToString(), $"{title}: {note}\n" + table.ToText(activations), HasCharts: false);
    }
}
