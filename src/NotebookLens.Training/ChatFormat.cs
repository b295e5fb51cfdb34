using System.Text;

namespace NotebookLens.Training;

/// <summary>
/// The format a tiny model is trained in: its special tokens, the one that starts every document, the ones that end a
/// turn or a text, and its chat template, which <see cref="Render"/> writes out character for character (a test holds
/// the two to each other). <see cref="Llama3"/> is <c>tiny</c>'s, <see cref="Gemma3"/> is <c>tiny-gemma</c>'s.
/// </summary>
public abstract class ChatFormat
{
    public static ChatFormat Llama3 { get; } = new Llama3ChatFormat();

    public static ChatFormat Gemma3 { get; } = new Gemma3ChatFormat();

    /// <summary>Starts every document (the tokenizer's <c>bos_token</c>, added by its post-processor).</summary>
    public abstract string Bos { get; }

    /// <summary>The end of a text, the base model's stop token.</summary>
    public abstract string EndOfText { get; }

    /// <summary>Ends each turn of a chat (the tokenizer's <c>eos_token</c>): generation stops there.</summary>
    public abstract string EndOfTurn { get; }

    /// <summary>Pads batched prompts, when the family has its own pad token; else null.</summary>
    public abstract string? Pad { get; }

    /// <summary>The added tokens, in id order after the BPE vocabulary.</summary>
    public abstract IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The Jinja chat template the tokenizer ships.</summary>
    public abstract string TemplateSource { get; }

    /// <summary>A conversation as the chat template renders it, optionally ending with the opening of the assistant's turn.</summary>
    public abstract string Render(IEnumerable<(string Role, string Content)> turns, bool addGenerationPrompt = false);

    /// <summary>The user's request in a rendered chat (without a system prompt the template merged into it), or null if none.</summary>
    public abstract string? UserRequest(string chat);

    private protected static string? Between(string text, string start, string end)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        if (from < 0) return null;
        from += start.Length;
        int to = text.IndexOf(end, from, StringComparison.Ordinal);
        return to < 0 ? null : text[from..to];
    }
}

/// <summary>Llama 3's format: header tokens around each role, <c>&lt;|eot_id|&gt;</c> after each turn.</summary>
sealed class Llama3ChatFormat : ChatFormat
{
    const string StartHeader = "<|start_header_id|>", EndHeader = "<|end_header_id|>";

    public override string Bos => "<|begin_of_text|>";

    public override string EndOfText => "<|end_of_text|>";

    public override string EndOfTurn => "<|eot_id|>";

    public override string? Pad => null;

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<|begin_of_text|>", "<|end_of_text|>", StartHeader, EndHeader, "<|eot_id|>"];

    // Llama 3's template without the date and tool preamble of 3.1 and 3.2.
    public override string TemplateSource =>
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    public override string Render(IEnumerable<(string Role, string Content)> turns, bool addGenerationPrompt = false)
    {
        var sb = new StringBuilder(Bos);
        foreach (var (role, content) in turns) sb.Append(StartHeader).Append(role).Append(EndHeader).Append("\n\n").Append(content.Trim()).Append(EndOfTurn);
        if (addGenerationPrompt) sb.Append(StartHeader).Append("assistant").Append(EndHeader).Append("\n\n");
        return sb.ToString();
    }

    public override string? UserRequest(string chat) => Between(chat, StartHeader + "user" + EndHeader + "\n\n", EndOfTurn);
}

/// <summary>
/// Gemma 3's format: <c>&lt;start_of_turn&gt;user</c> / <c>model</c>, <c>&lt;end_of_turn&gt;</c> and a newline after each
/// turn, no system role (a system prompt is written at the start of the first user turn, as Gemma's template does).
/// </summary>
sealed class Gemma3ChatFormat : ChatFormat
{
    const string StartOfTurn = "<start_of_turn>";

    public override string Bos => "<bos>";

    public override string EndOfText => "<eos>";

    public override string EndOfTurn => "<end_of_turn>";

    public override string? Pad => "<pad>";

    // In Gemma's order (pad, eos, bos, unk, then the turn markers); numbered after the BPE vocabulary, as tiny's are.
    public override IReadOnlyList<string> SpecialTokens { get; } = ["<pad>", "<eos>", "<bos>", "<unk>", StartOfTurn, "<end_of_turn>"];

    // Gemma 3's template as google/gemma-3-4b-it ships it.
    public override string TemplateSource => """
        {{ bos_token }}
        {%- if messages[0]['role'] == 'system' -%}
            {%- if messages[0]['content'] is string -%}
                {%- set first_user_prefix = messages[0]['content'] + '

        ' -%}
            {%- else -%}
                {%- set first_user_prefix = messages[0]['content'][0]['text'] + '

        ' -%}
            {%- endif -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = "" -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
                {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
            {%- endif -%}
            {%- if (message['role'] == 'assistant') -%}
                {%- set role = "model" -%}
            {%- else -%}
                {%- set role = message['role'] -%}
            {%- endif -%}
            {{ '<start_of_turn>' + role + '
        ' + (first_user_prefix if loop.first else "") }}
            {%- if message['content'] is string -%}
                {{ message['content'] | trim }}
            {%- elif message['content'] is iterable -%}
                {%- for item in message['content'] -%}
                    {%- if item['type'] == 'image' -%}
                        {{ '<start_of_image>' }}
                    {%- elif item['type'] == 'text' -%}
                        {{ item['text'] | trim }}
                    {%- endif -%}
                {%- endfor -%}
            {%- else -%}
                {{ raise_exception("Invalid content type") }}
            {%- endif -%}
            {{ '<end_of_turn>
        ' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{'<start_of_turn>model
        '}}
        {%- endif -%}

        """;

    public override string Render(IEnumerable<(string Role, string Content)> turns, bool addGenerationPrompt = false)
    {
        var list = turns.ToList();
        string prefix = list.Count > 0 && list[0].Role == "system" ? list[0].Content + "\n\n" : "";
        var sb = new StringBuilder(Bos);
        foreach (var (role, content) in prefix.Length > 0 ? list.Skip(1) : list)
        {
            sb.Append(StartOfTurn).Append(role == "assistant" ? "model" : role).Append('\n').Append(prefix).Append(content.Trim()).Append(EndOfTurn).Append('\n');
            prefix = "";
        }
        if (addGenerationPrompt) sb.Append(StartOfTurn).Append("model\n");
        return sb.ToString();
    }

    public override string? UserRequest(string chat) =>
        Between(chat, StartOfTurn + "user\n", EndOfTurn) is { } turn ? turn[(turn.LastIndexOf("\n\n", StringComparison.Ordinal) is var i and >= 0 ? i + 2 : 0)..] : null;
}
