using NotebookLens.Generation;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>A generation: the prompt (faint) followed by the completion, why it stopped, and the generated tokens as chips.</summary>
public static class GenerationView
{
    public static View Create(string prompt, string completion, IReadOnlyList<TokenInfo> generated, string finishReason)
    {
        var html = new HtmlBuilder();
        html.Open("div", Attr.Class("nl-generated"))
            .Element("span", prompt, Attr.Class("nl-prompt-text"))
            .Element("span", completion, Attr.Class("nl-completion-text"))
            .Close("div");
        html.Element("div", $"{generated.Count} new tokens; stopped: {finishReason}", Attr.Class("nl-note"));
        html.Open("details").Element("summary", "generated tokens");
        TokensView.WriteChips(html, generated);
        html.Close("details");
        var text = $"{prompt}{completion}\n[{generated.Count} new tokens; stopped: {finishReason}]\n";
        return new View("Generation", html.ToString(), text, HasCharts: false);
    }

    /// <summary>A <see cref="GenerationResult"/> decoded with the model's tokenizer.</summary>
    public static View Create(LensModel model, GenerationResult result)
    {
        var tokenizer = model.Tokenizer;
        var prompt = tokenizer.Decode(result.PromptIds, skipSpecialTokens: false);
        var completion = tokenizer.Decode(result.NewIds, skipSpecialTokens: true);
        var generated = result.NewIds.Select((id, i) => new TokenInfo(result.PromptIds.Count + i, id, tokenizer.DisplayText(id), tokenizer.IdToToken(id) ?? "",
            tokenizer.SpecialIds.Contains(id))).ToList();
        return Create(prompt, completion, generated, result.FinishReason.ToString());
    }
}
