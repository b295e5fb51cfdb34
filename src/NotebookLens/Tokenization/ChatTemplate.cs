using System.Text.Json;
using NotebookLens.Templates;

namespace NotebookLens.Tokenization;

/// <summary>One turn of a conversation.</summary>
/// <param name="Role"><c>system</c>, <c>user</c>, <c>assistant</c> (or whatever the template accepts, e.g. <c>tool</c>).</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A model's chat template (<c>tokenizer_config.json</c> → <c>chat_template</c>), rendered as
/// transformers' <c>apply_chat_template(tokenize=False)</c> does.
/// </summary>
public sealed class ChatTemplate
{
    readonly JinjaTemplate _template;
    readonly TokenizerSettings _settings;

    public ChatTemplate(string source, TokenizerSettings settings)
    {
        Source = source;
        _template = JinjaTemplate.Parse(source);
        _settings = settings;
    }

    public string Source { get; }

    /// <summary>Renders a conversation. <paramref name="variables"/> adds or overrides template variables (tools, documents, date_string, enable_thinking, ...).</summary>
    public string Render(IEnumerable<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? variables = null) =>
        Render(messages.Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList(), addGenerationPrompt, variables);

    /// <summary>Renders messages given as JSON: an array of objects with <c>role</c> and <c>content</c> (a string or a list of parts), tool calls and all.</summary>
    public string Render(JsonElement messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? variables = null)
    {
        if (messages.ValueKind != JsonValueKind.Array || messages.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out _)))
            throw new ArgumentException("Messages must be a JSON array of objects with a \"role\" (and usually a \"content\").", nameof(messages));
        return Render((object)messages, addGenerationPrompt, variables);
    }

    string Render(object messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? variables)
    {
        var all = new Dictionary<string, object?>
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = _settings.BosToken,
            ["eos_token"] = _settings.EosToken,
            ["unk_token"] = _settings.UnkToken,
            ["pad_token"] = _settings.PadToken,
        };
        foreach (var (key, value) in variables ?? new Dictionary<string, object?>()) all[key] = value;
        return _template.Render(all);
    }
}
