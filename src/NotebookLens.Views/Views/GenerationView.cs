using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>A generation: the prompt (faint) followed by the completion, why it stopped, and the generated tokens as chips.</summary>
public static class GenerationView
{
    /// <param name="model">The model that generated, for the generated tokens' chips (the output keeps their ids only); null: no chips.</param>
    public static View Create(GenerationOutput output, TextModel? model = null)
    {
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, output.Model);
        html.Open("div", Attr.Class("nl-generated"))
            .Element("span", output.Prompt.Text, Attr.Class("nl-prompt-text"))
            .Element("span", output.Text, Attr.Class("nl-completion-text"))
            .Close("div");
        html.Element("div", $"{output.NewIds.Count} new tokens; stopped: {output.FinishReason}", Attr.Class("nl-note"));
        if (model is not null)
        {
            html.Open("details").Element("summary", "generated tokens");
            TokensView.WriteChips(html, TokenInfo.From(model.Tokenizer, output.NewIds, output.Prompt.Count));
            html.Close("details");
        }
        var text = $"{output.Prompt.Text}{output.Text}\n[{output.NewIds.Count} new tokens; stopped: {output.FinishReason}]\n";
        return new View("Generation", html.ToString(), text, HasCharts: false);
    }
}
