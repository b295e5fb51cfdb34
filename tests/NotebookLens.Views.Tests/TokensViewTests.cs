namespace NotebookLens.Views.Tests;

[Collection(TinyCollection.Name)]
public class TokensViewTests(TinyModel tiny)
{
    [Fact]
    public void Chips_show_text_and_ids_with_the_vocabulary_string_on_hover_and_hostile_text_stays_text()
    {
        const string text = "<script>alert('x')</script> cold 冷";
        var tokens = tiny.Lens.Tokenizer.Tokenize(text);
        var doc = Dom.Parse(TokensView.Create(tokens, text));
        Assert.DoesNotContain(doc.QuerySelectorAll("script"), s => s.TextContent.Contains("alert"));
        var chips = doc.QuerySelectorAll(".nl-chip").ToList();
        Assert.Equal(tokens.Count, chips.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(tokens[i].Id.ToString(), chips[i].QuerySelector(".nl-chip-id")!.TextContent);
            Assert.Equal(tokens[i].Text.Replace(' ', '·'), chips[i].QuerySelector(".nl-chip-text")!.TextContent);
            Assert.Contains("vocabulary: " + tokens[i].Raw, chips[i].GetAttribute("title"));
            Assert.Equal(tokens[i].Special, chips[i].ClassList.Contains("nl-special"));
        }
        Assert.Equal(text, string.Concat(tokens.Where(t => !t.Special).Select(t => t.Text)));
        Assert.Contains(chips, c => c.ClassList.Contains("nl-special"));
        Assert.Equal(text, doc.QuerySelector("details pre")!.TextContent);
    }

    [Fact]
    public void The_text_view_is_a_table_of_index_id_text_and_vocabulary_string()
    {
        var tokens = tiny.Lens.Tokenizer.Tokenize(" cold");
        var lines = TokensView.Create(tokens).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{tokens.Count} tokens", lines[0]);
        var last = lines[^1].Split("  ", StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).ToList();
        Assert.Equal([(tokens.Count - 1).ToString(), tokens[^1].Id.ToString(), tokens[^1].Text.Trim(), tokens[^1].Raw], last);
    }
}
