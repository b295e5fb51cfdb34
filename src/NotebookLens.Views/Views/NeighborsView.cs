using NotebookLens.Inspection;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>Nearest tokens in embedding space (neighbours of a word, or the result of vector arithmetic) as a table with similarity bars.</summary>
public static class NeighborsView
{
    /// <param name="query">What was looked up: a word ("cold") or an expression ("冷 - cold + small").</param>
    /// <param name="table">Which table was searched: input embeddings or the LM head.</param>
    public static View Create(string query, IReadOnlyList<Neighbor> neighbors, EmbeddingTable table = EmbeddingTable.Input)
    {
        var rows = neighbors.Select((n, i) => (Rank: i + 1, Neighbor: n)).ToList();
        var columns = new Table<(int Rank, Neighbor Neighbor)>()
            .AddNumber("#", r => Format.Int(r.Rank))
            .AddHtml("token", r => r.Neighbor.Text, (html, r) => html.Element("code", Pieces.TokenText(r.Neighbor.Text), Attr.Title($"vocabulary: {r.Neighbor.Token}")))
            .Add("vocabulary", r => r.Neighbor.Token)
            .AddNumber("id", r => Format.Int(r.Neighbor.Id))
            .AddHtml("cosine", r => Format.Fixed(r.Neighbor.Similarity, 4),
                (html, r) => { Pieces.Bar(html, r.Neighbor.Similarity, 1); html.Text(" " + Format.Fixed(r.Neighbor.Similarity, 4)); }, numeric: true);
        var where = table == EmbeddingTable.Input ? "input embeddings" : "LM head rows";
        var html = new HtmlBuilder().Element("div", $"Cosine similarity over the whole vocabulary ({where})", Attr.Class("nl-sub"));
        columns.WriteHtml(html, rows);
        return new View($"Nearest tokens to {query}", html.ToString(), $"nearest to {query} ({where})\n" + columns.ToText(rows), HasCharts: false);
    }
}
