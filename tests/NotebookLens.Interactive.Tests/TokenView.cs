using System.Globalization;
using System.Net;
using NotebookLens.Tokenization;

namespace NotebookLens.Interactive.Tests;

static class TokenView
{
    /// <summary>The view's token rows: position, id and readable text of each token, as the tokenizer gives them, and no more.</summary>
    public static void AssertRows(string html, IReadOnlyList<TextToken> expected)
    {
        Assert.NotEmpty(expected);
        for (var i = 0; i < expected.Count; i++)
        {
            var row = $"<tr><td>{i}</td><td>{expected[i].Id.ToString("N0", CultureInfo.InvariantCulture)}</td><td>{WebUtility.HtmlEncode(expected[i].Text)}</td>";
            Assert.Contains(row, html);
        }
        Assert.DoesNotContain($"<tr><td>{expected.Count}</td>", html);
    }
}
