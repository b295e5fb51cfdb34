using NotebookLens.Models;
using NotebookLens.Tokenization;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>One token as the views show it: position, id, readable text, vocabulary string, special or not.</summary>
public sealed record TokenInfo(int Index, int Id, string Text, string Raw, bool Special)
{
    public static IReadOnlyList<TokenInfo> From(Prompt prompt) => prompt.Tokens.Select(t => new TokenInfo(t.Index, t.Id, t.Text, t.Raw, t.Special)).ToList();

    /// <summary>
    /// Ids a model produced with what its tokenizer says about them, numbered from <paramref name="firstIndex"/> (generated
    /// tokens follow their prompt); a row the tokenizer has no token for is labelled with its id (<see cref="TextModel.TokenText"/>).
    /// </summary>
    public static IReadOnlyList<TokenInfo> From(TextModel model, IEnumerable<int> ids, int firstIndex = 0) =>
        ids.Select((id, i) => new TokenInfo(firstIndex + i, id, model.TokenText(id), model.Tokenizer.IdToToken(id) ?? "", model.Tokenizer.SpecialIds.Contains(id))).ToList();
}

/// <summary>
/// A prompt's tokens as chips: readable text over the id, the vocabulary string, position and id on hover; special
/// tokens dashed and tinted apart, a row without a token (Gemma-3-4B has 63) dotted and untinted. A chat prompt also
/// shows the text its template rendered. The text view is a table.
/// </summary>
public static class TokensView
{
    public static View Create(Prompt prompt)
    {
        var tokens = TokenInfo.From(prompt);
        var html = new HtmlBuilder();
        html.Element("div", $"{tokens.Count} tokens, {tokens.Count(t => t.Special)} special" + (prompt.Kind == PromptKind.Chat ? "; rendered with the chat template" : ""), Attr.Class("nl-sub"));
        WriteChips(html, tokens);
        html.Open("details", Attr.Flag("open", prompt.Kind == PromptKind.Chat)).Element("summary", prompt.Kind == PromptKind.Chat ? "rendered template" : "text")
            .Element("pre", prompt.Text, Attr.Class("nl-preview")).Close("details");
        var title = prompt.Kind == PromptKind.Chat ? "Chat prompt" : "Tokens";
        var text = (prompt.Kind == PromptKind.Chat ? prompt.Text + "\n" : "") + $"{tokens.Count} tokens\n" + Table.ToText(tokens);
        return new View(title, html.ToString(), text, HasCharts: false);
    }

    /// <summary>The chips alone, for views that show tokens above something else.</summary>
    public static void WriteChips(HtmlBuilder html, IReadOnlyList<TokenInfo> tokens)
    {
        html.Open("div", Attr.Class("nl-chips"));
        foreach (var t in tokens)
        {
            // Only a row the tokenizer has no token for lacks a vocabulary string (Prompt.FromIds, TokenInfo.From).
            bool tokenless = t.Raw.Length == 0;
            html.Open("span", Attr.Class(t.Special ? "nl-chip nl-special" : tokenless ? "nl-chip nl-tokenless" : "nl-chip"),
                Attr.Title($"#{t.Index}  id {t.Id}\n"
                    + (tokenless ? "no token: a row of the model's vocabulary its tokenizer has no token for" : $"vocabulary: {t.Raw}")
                    + (t.Special ? "\nspecial token" : "")));
            html.Element("span", Pieces.TokenText(t.Text), Attr.Class("nl-chip-text"));
            html.Element("span", Format.Int(t.Id), Attr.Class("nl-chip-id"));
            html.Close("span");
        }
        html.Close("div");
    }

    static readonly Table<TokenInfo> Table = new Table<TokenInfo>()
        .AddNumber("#", t => Format.Int(t.Index))
        .AddNumber("id", t => Format.Int(t.Id))
        .Add("text", t => t.Text)
        .Add("vocabulary", t => t.Raw)
        .Add("special", t => t.Special ? "yes" : "");
}
