using System.Text.Json;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Tokenization;

/// <summary>The tokenizer's chat template against the transformers.js renders and ids of the fixtures.</summary>
public sealed class ChatTemplateTests(FixtureTokenizers tokenizers) : IClassFixture<FixtureTokenizers>
{
    public static TheoryData<string, string> Renders()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in new[] { "llama3", "gemma3", "llama3-nobos" })
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Root, "tokenizers", $"{name}.chat_template.json")));
            foreach (var r in doc.RootElement.GetProperty("renders").EnumerateArray()) data.Add(name, r.GetProperty("name").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Renders_and_encodes_as_transformers(string name, string render)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Root, "tokenizers", $"{name}.chat_template.json")));
        var r = doc.RootElement.GetProperty("renders").EnumerateArray().Single(x => x.GetProperty("name").GetString() == render);
        var tokenizer = tokenizers[name];
        var messages = r.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
        var text = tokenizer.ApplyChatTemplate(messages, r.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(r.GetProperty("rendered").GetString(), text);
        Assert.Equal(r.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()), tokenizer.Encode(text, addSpecialTokens: false));
        // The JSON form (what the CLI reads) renders the same.
        Assert.Equal(text, tokenizer.ApplyChatTemplate(r.GetProperty("messages"), r.GetProperty("add_generation_prompt").GetBoolean()));
    }

    [Fact]
    public void Gemma_refuses_roles_that_do_not_alternate()
    {
        var e = Assert.ThrowsAny<NotebookLens.Templates.TemplateException>(() =>
            tokenizers["gemma3"].ApplyChatTemplate([new ChatMessage("user", "a"), new ChatMessage("user", "b")]));
        Assert.Contains("alternate", e.Message);
    }

    [Fact]
    public void A_tokenizer_without_template_says_what_to_use()
    {
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(Fixtures.Root, "tokenizers", "llama3-nobos", "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        var tokenizer = HfTokenizer.Load(dir);
        Assert.Null(tokenizer.ChatTemplate);
        Assert.Contains("Instruct", Assert.Throws<NotSupportedException>(() => tokenizer.ApplyChatTemplate([new ChatMessage("user", "hi")])).Message);
    }
}
