using System.Text.Json.Serialization;
using NotebookLens.Runtime;

namespace NotebookLens.Tokenization;

/// <summary>How a <see cref="Prompt"/> was made.</summary>
public enum PromptKind
{
    /// <summary><c>tokenizer(text)</c>: BOS added where the tokenizer adds it.</summary>
    Text,
    /// <summary>Chat messages rendered with the model's chat template, then encoded without adding BOS again.</summary>
    Chat,
    /// <summary>Token ids given as they are; the text is their decode.</summary>
    Ids,
}

/// <summary>One token of a prompt.</summary>
/// <param name="Index">Position in the prompt (0-based).</param>
/// <param name="Text">What a person should see (<c>Ġapple</c> → " apple").</param>
/// <param name="Raw">The vocabulary string, as <c>convert_ids_to_tokens</c> gives.</param>
/// <param name="Start">First character of <see cref="Prompt.Text"/> the token covers.</param>
/// <param name="End">One past its last character (Start == End: a token with no text, e.g. an added BOS).</param>
public sealed record PromptToken(int Index, int Id, string Text, string Raw, bool Special, int Start, int End);

/// <summary>
/// What a model reads: text and its tokens, made once (from text, chat messages or ids) and accepted by every
/// analysis, <c>Forward</c>, <c>RunWithCache</c> and <c>Generate</c>. Immutable and serializable.
/// </summary>
public sealed record Prompt(string Text, IReadOnlyList<PromptToken> Tokens, PromptKind Kind)
{
    /// <summary>The token ids.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> Ids => Tokens.Select(t => t.Id).ToList();

    /// <summary>Readable text of each token.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Labels => Tokens.Select(t => t.Text).ToList();

    [JsonIgnore]
    public int Count => Tokens.Count;

    /// <summary>
    /// Index of the last token covering the <paramref name="occurrence"/>-th occurrence of <paramref name="word"/>
    /// (1-based; -1 is the last occurrence, -2 the one before): the position where the model has read the whole word.
    /// </summary>
    public int Locate(string word, int occurrence = 1)
    {
        if (string.IsNullOrEmpty(word)) throw new LensException(LensErrorKind.NotInInput, "The word to find is empty.", setting: "word");
        if (occurrence == 0) throw new LensException(LensErrorKind.OutOfRange, "Occurrences count from 1 (or from -1 at the end).", setting: "occurrence");
        var starts = new List<int>();
        for (int at = Text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = Text.IndexOf(word, at + 1, StringComparison.Ordinal)) starts.Add(at);
        int pick = occurrence > 0 ? occurrence - 1 : starts.Count + occurrence;
        if (pick < 0 || pick >= starts.Count)
            throw new LensException(LensErrorKind.NotInInput,
                $"\"{word}\" occurs {starts.Count} time{(starts.Count == 1 ? "" : "s")} in \"{Text}\"; occurrence {occurrence} was asked for.",
                starts.Count == 0 ? "Give a word of the prompt, spelled as it is there." : null, "word");
        int start = starts[pick], end = start + word.Length;
        for (int i = Tokens.Count - 1; i >= 0; i--)
            if (Tokens[i].End > start && Tokens[i].Start < end && Tokens[i].End > Tokens[i].Start) return i;
        throw new LensException(LensErrorKind.NotInInput, $"No token covers \"{word}\" at character {start} of \"{Text}\" (it is inside a special token?).", setting: "word");
    }

    /// <summary>A token index, negative counting from the end (-1 is the last token), checked.</summary>
    public int Position(int index) => Ranges.Position(index, Count);

    /// <summary>The prompt <c>tokenizer(text)</c> gives.</summary>
    public static Prompt FromText(HfTokenizer tokenizer, string text, bool addSpecialTokens = true) =>
        Of(text, tokenizer.Tokenize(text, addSpecialTokens), PromptKind.Text);

    /// <summary>Chat messages rendered with the tokenizer's chat template and encoded (the template writes BOS itself).</summary>
    public static Prompt FromChat(HfTokenizer tokenizer, IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        var text = tokenizer.ApplyChatTemplate(messages, addGenerationPrompt);
        return Of(text, tokenizer.Tokenize(text, addSpecialTokens: false), PromptKind.Chat);
    }

    /// <summary>Chat messages as JSON (a list of {"role", "content", ...}, as transformers takes them), rendered with the chat template and encoded.</summary>
    public static Prompt FromChat(HfTokenizer tokenizer, System.Text.Json.JsonElement messages, bool addGenerationPrompt = true)
    {
        var text = tokenizer.ApplyChatTemplate(messages, addGenerationPrompt);
        return Of(text, tokenizer.Tokenize(text, addSpecialTokens: false), PromptKind.Chat);
    }

    /// <summary>Ids as given; the text is the concatenation of the tokens' decodes, so each token spans its own piece.</summary>
    /// <param name="rows">
    /// The model's vocabulary rows when it has more than the tokenizer has tokens (Gemma-3-4B: 262,208 for 262,145): ids
    /// up to them are taken, one without a token labelled with its id (<see cref="HfTokenizer.ModelTokenText"/>; a
    /// generated token can be one).
    /// </param>
    public static Prompt FromIds(HfTokenizer tokenizer, IEnumerable<int> ids, int rows = 0)
    {
        var tokens = new List<PromptToken>();
        var text = new System.Text.StringBuilder();
        int limit = Math.Max(rows, tokenizer.VocabSize);
        foreach (var id in ids)
        {
            if (id < 0 || id >= limit)
                throw new LensException(LensErrorKind.OutOfRange, $"Token id {id} is outside the vocabulary (0 .. {limit - 1}).", setting: "ids");
            var piece = tokenizer.ModelTokenText(id, rows);
            tokens.Add(new PromptToken(tokens.Count, id, piece, tokenizer.IdToToken(id) ?? "", tokenizer.SpecialIds.Contains(id), text.Length, text.Length + piece.Length));
            text.Append(piece);
        }
        return new Prompt(text.ToString(), tokens, PromptKind.Ids);
    }

    static Prompt Of(string text, IReadOnlyList<TextToken> tokens, PromptKind kind) => new(text,
        tokens.Select((t, i) => new PromptToken(i, t.Id, t.Text, t.Raw, t.Special, t.Offsets.Start.Value, t.Offsets.End.Value)).ToList(), kind);

    /// <summary>The ids as a <c>[T]</c> int64 tensor (caller's dispose scope).</summary>
    public TorchSharp.torch.Tensor ToTensor() => TorchSharp.torch.tensor(Tokens.Select(t => (long)t.Id).ToArray());

    public override string ToString() => Text;
}
