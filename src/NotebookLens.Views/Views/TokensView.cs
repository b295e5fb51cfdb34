using NotebookLens.Tokenization;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>One token as the views show it: position, id, readable text, vocabulary string, special or not.</summary>
public sealed record TokenInfo(int Index, int Id, string Text, string Raw, bool Special)
{
    public static IReadOnlyList<TokenInfo> From(IEnumerable<TextToken> tokens) =>
        tokens.Select((t, i) => new TokenInfo(i, t.Id, t.Text, t.Raw, t.Special)).ToList();
}

/// <summary>
/// Tokens as chips: readable text over the id, the vocabulary string, position and id on hover; special tokens
/// dashed and tinted apart. The text view is a table.
/// </summary>
public static class TokensView
{
    public static View Create(IReadOnlyList<TokenInfo> tokens, string? text = null, string title = "Tokens")
    {
        var html = new HtmlBuilder();
        html.Element("div", $"{tokens.Count} tokens, {tokens.Count(t => t.Special)} special", Attr.Class("nl-sub"));
        WriteChips(html, tokens);
        if (text is not null)
            html.Element("details", d => d.Element("summary", "text").Element("pre", text, Attr.Class("nl-preview")));
        return new View(title, html.ToString(), $"{tokens.Count} tokens\n" + Table.ToText(tokens), HasCharts: false);
    }

    public static View Create(IReadOnlyList<TextToken> tokens, string? text = null) => Create(TokenInfo.From(tokens), text);

    /// <summary>The chips alone, for views that show a prompt's tokens above something else.</summary>
    public static void WriteChips(HtmlBuilder html, IReadOnlyList<TokenInfo> tokens)
    {
        html.Open("div", Attr.Class("nl-chips"));
        foreach (var t in tokens)
        {
            html.Open("span", Attr.Class(t.Special ? "nl-chip nl-special" : "nl-chip"),
                Attr.Title($"#{t.Index}  id {t.Id}\nvocabulary: {t.Raw}" + (t.Special ? "\nspecial token" : "")));
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
