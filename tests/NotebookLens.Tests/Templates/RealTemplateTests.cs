using System.Text.Json;
using NotebookLens.Templates;

namespace NotebookLens.Tests.Templates;

/// <summary>
/// Real chat templates without oracle fixtures (see templates/SOURCES.md). Expected strings were
/// derived by reading each template, then confirmed with jinja2 in HF's environment.
/// </summary>
public class RealTemplateTests
{
    private const string WeatherTool = """
        {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        """;

    // What the tools loop prints: tojson with Python's default ", " and ": " separators, keys in input order.
    private const string WeatherToolJson =
        "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather\", " +
        "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}";

    private const string ToolsPreamble =
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" + WeatherToolJson +
        "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
        "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

    private static string Render(string template, string messagesJson, bool addGenerationPrompt, params (string Name, object? Value)[] extra)
    {
        using JsonDocument messages = JsonDocument.Parse(messagesJson);
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = messages.RootElement,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = null,
            ["eos_token"] = "<|im_end|>",
        };
        foreach ((string name, object? value) in extra)
            variables[name] = value;
        return JinjaTemplate.Parse(TestFiles.ReadText(template)).Render(variables);
    }

    private static JsonElement Tools()
    {
        using JsonDocument doc = JsonDocument.Parse($"[{WeatherTool}]");
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Qwen25_AddsItsDefaultSystemPromptWhenNoneIsGiven()
    {
        string rendered = Render("qwen2_5.jinja", """[{"role": "user", "content": "Hello"}]""", addGenerationPrompt: true);

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
            "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
            rendered);
    }

    [Fact]
    public void Qwen25_UsesTheGivenSystemPromptAndNoGenerationPrompt()
    {
        string rendered = Render(
            "qwen2_5.jinja",
            """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]""",
            addGenerationPrompt: false);

        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n",
            rendered);
    }

    [Fact]
    public void Qwen25_RendersToolsToolCallsAndGroupedToolResponses()
    {
        const string messages = """
            [
              {"role": "user", "content": "Weather in Paris and Oslo?"},
              {"role": "assistant", "content": "", "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
              {"role": "tool", "content": "{\"temp\": 21}"},
              {"role": "tool", "content": "{\"temp\": 12}"}
            ]
            """;

        string rendered = Render("qwen2_5.jinja", messages, addGenerationPrompt: true, ("tools", Tools()));

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n" + ToolsPreamble +
            "<|im_start|>user\nWeather in Paris and Oslo?<|im_end|>\n" +
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\n{\"temp\": 12}\n</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\n",
            rendered);
    }

    [Fact]
    public void Qwen25_AcceptsPlainDotNetCollections()
    {
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = new object?[]
            {
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hello" },
            },
            ["add_generation_prompt"] = false,
        };

        string rendered = JinjaTemplate.Parse(TestFiles.ReadText("qwen2_5.jinja")).Render(variables);

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n",
            rendered);
    }

    [Fact]
    public void Qwen3_HasNoDefaultSystemPrompt()
    {
        Assert.Equal(
            "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
            Render("qwen3.jinja", """[{"role": "user", "content": "Hello"}]""", addGenerationPrompt: true));
    }

    [Fact]
    public void Qwen3_EnableThinkingFalseAddsAnEmptyThinkBlock()
    {
        Assert.Equal(
            "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            Render("qwen3.jinja", """[{"role": "user", "content": "Hello"}]""", addGenerationPrompt: true, ("enable_thinking", false)));
    }

    [Fact]
    public void Qwen3_KeepsReasoningOnlyAfterTheLastUserQuery()
    {
        const string messages = """
            [
              {"role": "user", "content": "2+2?"},
              {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
              {"role": "user", "content": "3+3?"},
              {"role": "assistant", "content": "<think>\nagain\n</think>\n\n6"}
            ]
            """;

        Assert.Equal(
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n" +
            "<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n<think>\nagain\n</think>\n\n6<|im_end|>\n",
            Render("qwen3.jinja", messages, addGenerationPrompt: false));
    }

    [Fact]
    public void Qwen3_RendersToolsAndStringArgumentsVerbatim()
    {
        const string messages = """
            [
              {"role": "system", "content": "You are a bot."},
              {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": "", "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
              {"role": "tool", "content": "sunny"}
            ]
            """;

        Assert.Equal(
            "<|im_start|>system\nYou are a bot.\n\n" + ToolsPreamble +
            "<|im_start|>user\nWeather in Paris?<|im_end|>\n" +
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
            Render("qwen3.jinja", messages, addGenerationPrompt: true, ("tools", Tools())));
    }
}
