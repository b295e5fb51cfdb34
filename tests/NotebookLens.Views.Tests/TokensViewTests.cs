namespace NotebookLens.Views.Tests;

[Collection(TinyCollection.Name)]
public class TokensViewTests(TinyModel tiny)
{
    [Fact]
    public void Chips_show_text_and_ids_with_the_vocabulary_string_on_hover_and_hostile_text_stays_text()
    {
        const string text = "<script>alert('x')</script> cold 冷";
        var prompt = tiny.Lens.Prompt(text);
        var tokens = prompt.Tokens;
        var doc = Dom.Parse(TokensView.Create(prompt));
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
    public void A_chat_prompt_shows_its_rendered_template_open_and_its_special_tokens_apart()
    {
        var prompt = tiny.Lens.ChatPrompt("What color is the sky?");
        var view = TokensView.Create(prompt);
        var doc = Dom.Parse(view);
        Assert.Equal("Chat prompt", view.Title);
        Assert.True(doc.QuerySelector("details")!.HasAttribute("open"));
        Assert.Equal(prompt.Text, doc.QuerySelector("details pre")!.TextContent);
        Assert.Equal(prompt.Tokens.Where(t => t.Special).Select(t => t.Id.ToString()),
            doc.QuerySelectorAll(".nl-chip.nl-special .nl-chip-id").Select(e => e.TextContent));
        Assert.StartsWith(prompt.Text, view.Text);
    }

    [Fact]
    public void The_text_view_is_a_table_of_index_id_text_and_vocabulary_string()
    {
        var tokens = tiny.Lens.Prompt(" cold").Tokens;
        var lines = TokensView.Create(tiny.Lens.Prompt(" cold")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{tokens.Count} tokens", lines[0]);
        var last = lines[^1].Split("  ", StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).ToList();
        Assert.Equal([(tokens.Count - 1).ToString(), tokens[^1].Id.ToString(), tokens[^1].Text.Trim(), tokens[^1].Raw], last);
    }
}
