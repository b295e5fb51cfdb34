using System.Text.Json;
using NotebookLens.Templates;

namespace NotebookLens.Tests.Templates;

/// <summary>
/// Renders the real Llama 3 and Gemma 3 chat templates and compares with the strings produced by
/// @huggingface/transformers' apply_chat_template (tests/templates/*.chat_template.json).
/// </summary>
public class FixtureRenderTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string fixture in new[] { "llama3", "gemma3", "llama3-nobos" })
        {
            foreach (JsonElement render in TestFiles.ReadJson($"{fixture}.chat_template.json").GetProperty("renders").EnumerateArray())
                data.Add(fixture, render.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersExactlyAsHuggingFace(string fixture, string caseName)
    {
        JsonElement root = TestFiles.ReadJson($"{fixture}.chat_template.json");
        JsonElement render = root.GetProperty("renders").EnumerateArray().Single(r => r.GetProperty("name").GetString() == caseName);
        var variables = new Dictionary<string, object?>();
        foreach (JsonProperty variable in root.GetProperty("template_variables").EnumerateObject())
            variables[variable.Name] = variable.Value;
        variables["messages"] = render.GetProperty("messages");
        variables["add_generation_prompt"] = render.GetProperty("add_generation_prompt").GetBoolean();

        JinjaTemplate template = JinjaTemplate.Parse(TestFiles.ReadText($"{fixture}.jinja"));

        Assert.Equal(render.GetProperty("rendered").GetString(), template.Render(variables));
    }

    [Fact]
    public void FixtureFilesCoverFiveRendersEach()
    {
        Assert.Equal(15, Cases().Count);
    }

    [Fact]
    public void GemmaRejectsTwoConsecutiveUserMessages()
    {
        JinjaTemplate template = JinjaTemplate.Parse(TestFiles.ReadText("gemma3.jinja"));
        var messages = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hi" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hello again" },
        };

        var e = Assert.Throws<TemplateRaisedException>(() => template.Render(new Dictionary<string, object?>
        {
            ["messages"] = messages,
            ["bos_token"] = "<bos>",
            ["add_generation_prompt"] = true,
        }));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void GemmaRendersContentPartsAndFoldsTheSystemPromptIntoTheFirstTurn()
    {
        JinjaTemplate template = JinjaTemplate.Parse(TestFiles.ReadText("gemma3.jinja"));
        string json = """
            [
              {"role": "system", "content": [{"type": "text", "text": "Be terse."}]},
              {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " Describe it. "}]},
              {"role": "assistant", "content": "A cat."}
            ]
            """;
        using JsonDocument messages = JsonDocument.Parse(json);

        string rendered = template.Render(new Dictionary<string, object?>
        {
            ["messages"] = messages.RootElement,
            ["bos_token"] = "<bos>",
            ["add_generation_prompt"] = false,
        });

        Assert.Equal(
            "<bos><start_of_turn>user\nBe terse.\n\n<start_of_image>Describe it.<end_of_turn>\n<start_of_turn>model\nA cat.<end_of_turn>\n",
            rendered);
    }
}
