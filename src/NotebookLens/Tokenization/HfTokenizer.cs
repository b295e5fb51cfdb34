using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using NotebookLens.Loading;

namespace NotebookLens.Tokenization;

/// <summary>One token of an encoding: its id, its vocabulary string, the text it stands for, and where it came from.</summary>
/// <param name="Raw">The vocabulary string (<c>Ġapple</c>, <c>▁apple</c>, <c>&lt;0xE5&gt;</c>), as <c>convert_ids_to_tokens</c> gives.</param>
/// <param name="Text">What a person should see: the text the token stands for; bytes that are not a whole character as <c>\xNN</c>.</param>
/// <param name="Offsets">The span of the input text the token covers (empty for added BOS/EOS).</param>
public sealed record TextToken(int Id, string Raw, string Text, bool Special, Range Offsets);

/// <summary>
/// A Hugging Face tokenizer (<c>tokenizer.json</c> + <c>tokenizer_config.json</c>) that produces exactly
/// the ids, tokens and decoded text transformers does: added tokens matched first, then normalizer,
/// pre-tokenizer, BPE (byte-level or SentencePiece-style with byte fallback) and post-processor.
/// It is a Microsoft.ML.Tokenizers <see cref="Tokenizer"/>, so it plugs into code written for that API.
/// </summary>
public sealed class HfTokenizer : Tokenizer
{
    readonly BpeModel _model;
    readonly TextNormalizer? _normalizer;
    readonly PreTokenizerStep? _preTokenizer;
    readonly TokenDecoder? _decoder;
    readonly AddedVocabulary _rawAdded;
    readonly AddedVocabulary? _normalizedAdded;
    readonly Dictionary<int, AddedToken> _addedById;
    readonly Dictionary<string, int> _addedByContent;
    readonly string?[] _idToToken;
    readonly string?[] _displayText;

    HfTokenizer(BpeModel model, TextNormalizer? normalizer, PreTokenizerStep? preTokenizer, TokenDecoder? decoder,
        PostProcessor post, IReadOnlyList<AddedToken> added, TokenizerSettings settings)
    {
        _model = model;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _decoder = decoder;
        PostProcessor = post;
        Settings = settings;
        AddedTokens = added;
        _rawAdded = new AddedVocabulary(added.Where(a => !a.Normalized));
        _normalizedAdded = added.Any(a => a.Normalized) ? new AddedVocabulary(added.Where(a => a.Normalized)) : null;
        _addedById = added.GroupBy(a => a.Id).ToDictionary(g => g.Key, g => g.Last());
        _addedByContent = added.GroupBy(a => a.Content).ToDictionary(g => g.Key, g => g.Last().Id, StringComparer.Ordinal);
        VocabSize = CheckedVocabSize(model.Vocabulary.Values.Concat(added.Select(a => a.Id)).ToList());
        _idToToken = new string?[VocabSize];
        _displayText = new string?[VocabSize];
        foreach (var (token, id) in model.Vocabulary) _idToToken[id] = token;
        foreach (var a in added) _idToToken[a.Id] = a.Content;
        foreach (int id in post.Prefix.Concat(post.Suffix))
            if (IdToToken(id) is null)
                throw new InvalidDataException($"tokenizer.json: post_processor adds token id {id}, which is not in the vocabulary.");
        ByteLevel = preTokenizer?.ByteLevel ?? false;
        SpecialIds = added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        _chatTemplate = new(() => settings.ChatTemplate is { } source ? new ChatTemplate(source, settings) : null);
    }

    readonly Lazy<ChatTemplate?> _chatTemplate;

    /// <summary>
    /// Ids index dense tables: a negative id, or one far beyond the number of tokens (a corrupt or hostile file), would
    /// make them fail or allocate gigabytes.
    /// </summary>
    static int CheckedVocabSize(IReadOnlyList<int> ids)
    {
        if (ids.Count == 0) return 0;
        int limit = 2 * ids.Count + 1024;
        foreach (int id in ids)
            if (id < 0 || id >= limit)
                throw new InvalidDataException($"tokenizer.json: token id {id} is out of range (0 .. {limit - 1} for {ids.Count} tokens).");
        return ids.Max() + 1;
    }

    /// <summary>Settings from <c>tokenizer_config.json</c> (and generation_config.json): special tokens, cleanup, chat template.</summary>
    public TokenizerSettings Settings { get; }

    public PostProcessor PostProcessor { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Number of ids, added tokens included, as <c>len(tokenizer)</c> (Llama 3: 128,256; Gemma 3: 262,145).</summary>
    public int VocabSize { get; }

    /// <summary>Entries of the BPE vocabulary alone, as transformers' <c>tokenizer.vocab_size</c> (Llama 3: 128,000; Gemma 3: 262,144).</summary>
    public int ModelVocabSize => _model.Vocabulary.Count;

    /// <summary>True for GPT-2 style byte-level BPE (Llama 3, Qwen); false for SentencePiece-style (Gemma).</summary>
    public bool ByteLevel { get; }

    public IReadOnlySet<int> SpecialIds { get; }

    public int? BosId => Id(Settings.BosToken);

    public int? PadId => Id(Settings.PadToken);

    /// <summary>Every id that ends a turn or the text: the tokenizer's eos_token and generation_config's eos_token_id.</summary>
    public IReadOnlyList<int> EosIds =>
        Settings.EosTokenIds.Concat(Id(Settings.EosToken) is int eos ? [eos] : []).Distinct().ToList();

    int? Id(string? token) => token is null ? null : TokenToId(token);

    /// <summary>The model's chat template, or null for tokenizers without one (base models).</summary>
    public ChatTemplate? ChatTemplate => _chatTemplate.Value;

    /// <summary>
    /// The conversation as the model expects it, as transformers' <c>apply_chat_template(tokenize=False)</c>. The text
    /// already starts with BOS where the template puts it: encode it with <c>addSpecialTokens: false</c>.
    /// </summary>
    public string ApplyChatTemplate(IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null) =>
        RequireChatTemplate().Render(messages, addGenerationPrompt, variables);

    /// <inheritdoc cref="ApplyChatTemplate(IEnumerable{ChatMessage}, bool, IReadOnlyDictionary{string, object?}?)"/>
    public string ApplyChatTemplate(JsonElement messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null) =>
        RequireChatTemplate().Render(messages, addGenerationPrompt, variables);

    ChatTemplate RequireChatTemplate() => ChatTemplate
        ?? throw new NotSupportedException("This tokenizer has no chat_template in tokenizer_config.json (base models have none: use the -Instruct / -it model).");

    /// <summary>
    /// Loads <c>tokenizer.json</c> and, when present, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>,
    /// <c>generation_config.json</c> from a model folder, or from a hub id through the Hugging Face cache
    /// (<see cref="ModelLocator"/>; only the tokenizer's files are downloaded).
    /// </summary>
    public static HfTokenizer Load(string folderOrHubId, HubOptions? hub = null)
    {
        var folder = ModelLocator.Resolve(folderOrHubId, ModelParts.Tokenizer, hub);
        var path = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{folder} has no tokenizer.json. NotebookLens reads the fast-tokenizer file of a Hugging Face model folder (tokenizer.json with tokenizer_config.json).", path);
        var settings = TokenizerSettings.Load(folder);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            try { return FromJson(doc.RootElement, settings); }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}: a field is missing or has the wrong JSON type ({e.Message}).", e);
            }
            // The component parsers know the file only as "tokenizer.json"; the user needs to know which one.
            catch (InvalidDataException e) { throw new InvalidDataException(Located(e, path), e); }
            catch (NotSupportedException e) { throw new NotSupportedException(Located(e, path), e); }
        }
    }

    static string Located(Exception e, string path) =>
        e.Message.StartsWith("tokenizer.json", StringComparison.Ordinal) ? path + e.Message["tokenizer.json".Length..] : $"{path}: {e.Message}";

    static HfTokenizer FromJson(JsonElement root, TokenizerSettings settings)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model))
            throw new InvalidDataException("tokenizer.json has no \"model\".");
        JsonElement Part(string name) => root.TryGetProperty(name, out var v) ? v : NullElement;
        return new HfTokenizer(
            BpeModel.Parse(model),
            TextNormalizer.Parse(Part("normalizer")),
            PreTokenizerStep.Parse(Part("pre_tokenizer")),
            TokenDecoder.Parse(Part("decoder")),
            PostProcessor.Parse(Part("post_processor")),
            AddedVocabulary.Parse(root),
            settings);
    }

    static readonly JsonElement NullElement = JsonDocument.Parse("null").RootElement.Clone();

    /// <summary>Token ids of <paramref name="text"/>; with <paramref name="addSpecialTokens"/> the post-processor adds BOS and the like.</summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true) => Spans(text, addSpecialTokens).Select(t => t.Id).ToList();

    /// <summary>The tokens of <paramref name="text"/> with their display text and offsets.</summary>
    public IReadOnlyList<TextToken> Tokenize(string text, bool addSpecialTokens = true) =>
        Spans(text, addSpecialTokens).Select(t => Describe(t.Id, t.Offsets)).ToList();

    List<(int Id, Range Offsets)> Spans(string text, bool addSpecialTokens)
    {
        var result = new List<(int, Range)>(text.Length / 3 + 4);
        if (addSpecialTokens) result.AddRange(PostProcessor.Prefix.Select(id => (id, 0..0)));
        var pieceTokens = new List<(int Id, int Bytes)>();
        foreach (var segment in _rawAdded.Split(new Segment(text, 0, null)))
        {
            if (segment.Token is { } added)
            {
                result.Add((added.Id, segment.Start..(segment.Start + segment.Text.Length)));
                continue;
            }
            var normalized = _normalizer?.Normalize(segment.Text) ?? segment.Text;
            var parts = _normalizedAdded is null ? [new Segment(normalized, 0, null)] : _normalizedAdded.Split(new Segment(normalized, 0, null));
            foreach (var part in parts)
            {
                if (part.Token is { } normalizedAdded)
                {
                    result.Add((normalizedAdded.Id, MapOffsets(segment, normalized, part.Start, part.Start + part.Text.Length)));
                    continue;
                }
                var pieces = new List<TextPiece> { new(part.Text, part.Start) };
                if (_preTokenizer is not null) pieces = _preTokenizer.Apply(pieces);
                foreach (var piece in pieces)
                {
                    pieceTokens.Clear();
                    _model.Tokenize(ByteLevel ? ByteLevelAlphabet.Encode(piece.Text) : piece.Text, ByteLevel, pieceTokens);
                    var charAt = Utf8ToCharOffsets(piece.Text);
                    int bytes = 0;
                    foreach (var (id, width) in pieceTokens)
                    {
                        int from = piece.Start + charAt[bytes], to = piece.Start + charAt[bytes + width];
                        bytes += width;
                        result.Add((id, MapOffsets(segment, normalized, from, to)));
                    }
                }
            }
        }
        if (addSpecialTokens) result.AddRange(PostProcessor.Suffix.Select(id => (id, text.Length..text.Length)));
        return result;
    }

    /// <summary><c>offsets[b]</c> is the character index where UTF-8 byte <c>b</c> of <paramref name="text"/> falls.</summary>
    static int[] Utf8ToCharOffsets(string text)
    {
        var offsets = new List<int>(text.Length * 2 + 1);
        int chars = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            for (int i = 0; i < rune.Utf8SequenceLength; i++) offsets.Add(chars);
            chars += rune.Utf16SequenceLength;
        }
        offsets.Add(chars);
        return [.. offsets];
    }

    /// <summary>Maps a span of the normalized segment back to the input, exactly when normalization kept lengths.</summary>
    static Range MapOffsets(Segment segment, string normalized, int from, int to)
    {
        int shift = normalized.Length - segment.Text.Length;
        if (shift == 0) return (segment.Start + from)..(segment.Start + to);
        if (shift > 0 && normalized.EndsWith(segment.Text, StringComparison.Ordinal))
            return (segment.Start + Math.Max(0, from - shift))..(segment.Start + Math.Max(0, to - shift));
        return segment.Start..(segment.Start + segment.Text.Length);
    }

    TextToken Describe(int id, Range offsets) => new(id, IdToToken(id) ?? "", DisplayText(id), SpecialIds.Contains(id), offsets);

    /// <summary>The vocabulary string of an id (<c>convert_ids_to_tokens</c>), or null when no token has it.</summary>
    ArgumentOutOfRangeException UnknownId(int id, string parameter) =>
        new(parameter, $"Token id {id} is not in this tokenizer's vocabulary (ids 0 .. {VocabSize - 1}; some may be unused).");

    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>The id of a vocabulary string or added token, or null.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var a) ? a : _model.Vocabulary.TryGetValue(token, out var id) ? id : null;

    /// <summary>
    /// The text an id stands for, for a person: <c>Ġapple</c> → " apple", <c>▁apple</c> → " apple",
    /// <c>&lt;0x0A&gt;</c> → a newline; bytes that are not a whole UTF-8 character → <c>\xE5</c>; added tokens as they are.
    /// </summary>
    public string DisplayText(int id)
    {
        var raw = IdToToken(id) ?? throw UnknownId(id, nameof(id));
        return _displayText[id] ??= _addedById.ContainsKey(id) ? raw : Readable(DisplayBytes(raw));
    }

    /// <summary>
    /// <see cref="DisplayText"/> for an id of a model with <paramref name="rows"/> vocabulary rows, which can be more
    /// than this tokenizer has tokens (Gemma-3-4B: 262,208 for 262,145): a row without a token shows as
    /// <c>⟨id 262150: no token⟩</c>.
    /// </summary>
    public string ModelTokenText(int id, int rows) => IsRowWithoutToken(id, rows) ? NoTokenPrefix + id + NoTokenSuffix : DisplayText(id);

    /// <summary>Whether <paramref name="id"/> is one of a model's <paramref name="rows"/> vocabulary rows that this tokenizer has no token for.</summary>
    public bool IsRowWithoutToken(int id, int rows) => id >= 0 && id < rows && IdToToken(id) is null;

    const string NoTokenPrefix = "⟨id ", NoTokenSuffix = ": no token⟩";

    /// <summary>Whether <paramref name="text"/> is <see cref="ModelTokenText"/>'s label of a row without a token, which views show as it is rather than as token text.</summary>
    public static bool IsNoTokenLabel(string text) =>
        text.StartsWith(NoTokenPrefix, StringComparison.Ordinal) && text.EndsWith(NoTokenSuffix, StringComparison.Ordinal)
        && int.TryParse(text.AsSpan(NoTokenPrefix.Length, text.Length - NoTokenPrefix.Length - NoTokenSuffix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);

    byte[] DisplayBytes(string raw)
    {
        return ByteLevel ? ByteLevelAlphabet.Decode(raw)
            : ByteFallbackDecoder.TryParseByte(raw, out var b) ? [b]
            : Encoding.UTF8.GetBytes(raw.Replace('▁', ' '));
    }

    static string Readable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int consumed) == OperationStatus.Done)
                sb.Append(rune.ToString());
            else
            {
                consumed = 1;
                sb.Append($"\\x{bytes[0]:X2}");
            }
            bytes = bytes[consumed..];
        }
        return sb.ToString();
    }

    /// <summary>Text of <paramref name="ids"/> as transformers' <c>decode</c>; cleanup defaults to tokenizer_config.json's <c>clean_up_tokenization_spaces</c>.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens, bool? cleanUpTokenizationSpaces = null)
    {
        var tokens = new List<string>();
        foreach (var id in ids)
        {
            if (skipSpecialTokens && SpecialIds.Contains(id)) continue;
            tokens.Add(IdToToken(id) ?? throw UnknownId(id, nameof(ids)));
        }
        var text = _decoder is null ? string.Join(" ", tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return cleanUpTokenizationSpaces ?? Settings.CleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>: drops the space before punctuation and English contractions.</summary>
    static string CleanUp(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");

    // Microsoft.ML.Tokenizers surface: encodes as tokenizer(text) does (special tokens added).

    public override string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: false);

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var list = ids.ToList();
        var text = Decode(list, skipSpecialTokens: false);
        if (text.Length > destination.Length)
        {
            idsConsumed = charsWritten = 0;
            return OperationStatus.DestinationTooSmall;
        }
        text.CopyTo(destination);
        idsConsumed = list.Count;
        charsWritten = text.Length;
        return OperationStatus.Done;
    }

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var input = text ?? textSpan.ToString();
        var tokens = Tokenize(input);
        int keep = settings.MaxTokenCount > 0 ? Math.Min(settings.MaxTokenCount, tokens.Count) : tokens.Count;
        return new EncodeResults<EncodedToken>
        {
            Tokens = tokens.Take(keep).Select(t => new EncodedToken(t.Id, t.Raw, t.Offsets)).ToList(),
            CharsConsumed = keep == tokens.Count ? input.Length : keep == 0 ? 0 : tokens[keep - 1].Offsets.End.Value,
        };
    }
}
