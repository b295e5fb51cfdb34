using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Tokenization;
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
            TokensView.WriteChips(html, TokenInfo.From(model, output.NewIds, output.Prompt.Count));
            html.Close("details");
        }
        return new View("Generation", html.ToString(), TextBefore(output.Prompt) + output.Text + TextAfter(output), HasCharts: false);
    }

    /// <summary>What the text view shows before the completion (the prompt): a terminal writes it first, then the completion as it comes, then <see cref="TextAfter"/>.</summary>
    public static string TextBefore(Prompt prompt) => prompt.Text;

    /// <summary>What the text view shows after the completion: how many tokens, and why it stopped.</summary>
    public static string TextAfter(GenerationOutput output) => $"\n[{output.NewIds.Count} new tokens; stopped: {output.FinishReason}]\n";
}
