using NotebookLens.Tokenization;

namespace NotebookLens.Steering;

/// <summary>
/// Instructions as a chat model sees them: one user message (after an optional system message) rendered with
/// the model's chat template and generation prompt. The <b>post-instruction tokens</b> are the template's
/// tokens after the instruction (Llama 3: <c>&lt;|eot_id|&gt;&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n</c>);
/// Arditi et al. take refusal directions from them. Their number is read off the template itself: it is
/// rendered around a placeholder instruction and the tokens starting after the placeholder are counted.
/// </summary>
public sealed class InstructionPrompts
{
    // No whitespace (templates trim the content) and nothing a tokenizer would merge with what follows.
    const string Placeholder = "INSTRUCTION";

    readonly HfTokenizer _tokenizer;
    readonly string? _system;

    public InstructionPrompts(HfTokenizer tokenizer, string? system = null)
    {
        _tokenizer = tokenizer;
        _system = system;
        var text = Render(Placeholder);
        int end = text.LastIndexOf(Placeholder, StringComparison.Ordinal) + Placeholder.Length;
        if (end < Placeholder.Length)
            throw new NotSupportedException("The chat template does not copy the user's message into the prompt verbatim, so the tokens after the instruction cannot be located.");
        var tokens = tokenizer.Tokenize(text, addSpecialTokens: false);
        if (tokens.Any(t => t.Offsets.Start.Value < end && t.Offsets.End.Value > end))
            throw new NotSupportedException("The chat template's text after the instruction merges with the instruction's last token, so the post-instruction tokens are not well defined.");
        PostInstructionIds = tokens.Where(t => t.Offsets.Start.Value >= end).Select(t => t.Id).ToList();
        if (PostInstructionIds.Count == 0)
            throw new NotSupportedException("The chat template adds nothing after the instruction (no end-of-turn or generation prompt), so there are no post-instruction positions.");
    }

    /// <summary>The template's token ids after the instruction, in order; every prompt ends with them.</summary>
    public IReadOnlyList<int> PostInstructionIds { get; }

    /// <summary>How many post-instruction positions a prompt has (Llama 3 and Gemma 3: 5).</summary>
    public int PostInstructionCount => PostInstructionIds.Count;

    /// <summary>Readable text of each post-instruction token, for labels.</summary>
    public IReadOnlyList<string> PostInstructionLabels => PostInstructionIds.Select(_tokenizer.DisplayText).ToList();

    /// <summary>One instruction's prompt, ready for the model's reply (BOS from the template, not added twice).</summary>
    public Prompt Prompt(string instruction)
    {
        var prompt = Tokenization.Prompt.FromChat(_tokenizer, Messages(instruction));
        var ids = prompt.Ids;
        // The count holds for every instruction only if the template's suffix tokenizes the same after it.
        if (ids.Count <= PostInstructionCount || !ids.Skip(ids.Count - PostInstructionCount).SequenceEqual(PostInstructionIds))
            throw new ArgumentException($"The prompt of the instruction \"{instruction}\" does not end with the template's post-instruction tokens; its last characters merge with the template. Edit the instruction (e.g. drop trailing punctuation or spaces).", nameof(instruction));
        return prompt;
    }

    /// <summary>The ids of one instruction's prompt.</summary>
    public IReadOnlyList<int> Ids(string instruction) => Prompt(instruction).Ids;

    public IReadOnlyList<IReadOnlyList<int>> Ids(IEnumerable<string> instructions) => instructions.Select(Ids).ToList();

    IEnumerable<ChatMessage> Messages(string instruction) =>
        _system is null ? [new("user", instruction)] : [new("system", _system), new("user", instruction)];

    string Render(string instruction) => _tokenizer.ApplyChatTemplate(Messages(instruction), addGenerationPrompt: true);
}
