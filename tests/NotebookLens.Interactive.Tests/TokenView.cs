using System.Text.RegularExpressions;
using NotebookLens.Tokenization;
using NotebookLens.Views.Html;

namespace NotebookLens.Interactive.Tests;

static partial class TokenView
{
    [GeneratedRegex("<span class=\"nl-chip-text\">(.*?)</span><span class=\"nl-chip-id\">([0-9]+)</span>")]
    private static partial Regex Chip();

    /// <summary>The view's token chips, in order: each token's readable text and id as the tokenizer gives them, and no more.</summary>
    public static void AssertChips(string html, IReadOnlyList<TextToken> expected)
    {
        Assert.NotEmpty(expected);
        var chips = Chip().Matches(html).Select(m => (m.Groups[1].Value, int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(expected.Select(t => (HtmlBuilder.Escape(Pieces.TokenText(t.Text)), t.Id)), chips);
    }
}
