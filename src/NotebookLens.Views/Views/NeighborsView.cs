using NotebookLens.Inspection;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>Nearest tokens in embedding space (neighbours of a word, or the result of vector arithmetic) as a table with similarity bars.</summary>
public static class NeighborsView
{
    public static View Create(NeighborsResult result)
    {
        var (query, table) = (result.Expression, result.Table);
        var rows = result.Neighbors.Select((n, i) => (Rank: i + 1, Neighbor: n)).ToList();
        var columns = new Table<(int Rank, Neighbor Neighbor)>()
            .AddNumber("#", r => Format.Int(r.Rank))
            .AddHtml("token", r => r.Neighbor.Text, (html, r) => html.Element("code", Pieces.TokenText(r.Neighbor.Text), Attr.Title($"vocabulary: {r.Neighbor.Token}")))
            .Add("vocabulary", r => r.Neighbor.Token)
            .AddNumber("id", r => Format.Int(r.Neighbor.Id))
            .AddHtml("cosine", r => Format.Fixed(r.Neighbor.Similarity, 4),
                (html, r) => { Pieces.Bar(html, r.Neighbor.Similarity, 1); html.Text(" " + Format.Fixed(r.Neighbor.Similarity, 4)); }, numeric: true);
        var where = table == EmbeddingTable.Input ? "input embeddings" : "LM head rows";
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        html.Element("div", $"Cosine similarity over the whole vocabulary ({where}); " + Terms(result), Attr.Class("nl-sub"));
        columns.WriteHtml(html, rows);
        return new View($"Nearest tokens to {query}", html.ToString(), $"nearest to {query} ({where}; {Terms(result)})\n" + columns.ToText(rows), HasCharts: false);
    }

    /// <summary>How each term was read: its tokens' ids (several are averaged); input terms are left out of the results of arithmetic.</summary>
    static string Terms(NeighborsResult result)
    {
        static string Term(EmbeddingQuery q) => $"{q.Text} = [{string.Join(", ", q.Ids)}]";
        var plus = string.Join(" + ", result.Plus.Select(Term));
        return result.Minus.Count == 0 ? plus : plus + " - " + string.Join(" - ", result.Minus.Select(Term));
    }
}
