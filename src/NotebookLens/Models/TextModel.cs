using NotebookLens.Loading;
using NotebookLens.Tokenization;

namespace NotebookLens.Models;

/// <summary>Which model a result came from: enough to tell results of models loaded side by side apart.</summary>
/// <param name="Name">The name the model was loaded under (e.g. "llama", "tiny").</param>
/// <param name="Source">What it was loaded from: a folder, a hub id or "tiny".</param>
/// <param name="ModelType">config.json's <c>model_type</c>.</param>
/// <param name="DType">The compute dtype ("bfloat16", "float32").</param>
public sealed record ModelRef(string Name, string Source, string ModelType, string DType, string Device);

/// <summary>
/// A language model with its tokenizer: what every analysis takes. Makes prompts (from text, chat messages or ids)
/// and knows which tokens end a reply. <c>LensModel</c>, the notebook façade, is one.
/// </summary>
public class TextModel
{
    readonly LanguageModel _model;
    readonly HfTokenizer _tokenizer;
    readonly ModelRef _ref;
    readonly IReadOnlySet<int> _stopTokens;
    readonly ModelDefaults _defaults;

    /// <exception cref="InvalidDataException">The checkpoint folder's <c>notebooklens.json</c> is not valid.</exception>
    public TextModel(LanguageModel model, HfTokenizer tokenizer, ModelRef reference)
    {
        _model = model;
        _tokenizer = tokenizer;
        _ref = reference;
        _stopTokens = model.StopTokenIds.Concat(tokenizer.EosIds).ToHashSet();
        _defaults = ModelDefaults.Load(model.Checkpoint.Folder);
    }

    /// <summary>The engine: weights, forward pass, hooks.</summary>
    public LanguageModel Model => Usable(_model);

    public HfTokenizer Tokenizer => Usable(_tokenizer);

    /// <summary>Name, source, type, dtype and device: what every result carries.</summary>
    public ModelRef Ref => Usable(_ref);

    /// <summary>The reference without the usability check, for what only names the model (its name, its source, errors about it).</summary>
    private protected ModelRef Identity => _ref;

    public ModelConfig Config => Model.Config;

    /// <summary>What the model's folder asks analyses to use when the user does not say (its <c>notebooklens.json</c>; none for Hugging Face folders).</summary>
    public ModelDefaults Defaults => Usable(_defaults);

    /// <summary>Ids that end a reply: config.json's and generation_config.json's <c>eos_token_id</c> and the tokenizer's EOS.</summary>
    public IReadOnlySet<int> StopTokens => Usable(_stopTokens);

    /// <summary>The prompt <c>tokenizer(text)</c> gives (BOS added where the tokenizer adds it).</summary>
    public Prompt Prompt(string text, bool addSpecialTokens = true) => Tokenization.Prompt.FromText(Tokenizer, text, addSpecialTokens);

    /// <summary>Token ids as they are: any row of the model's vocabulary, also one the tokenizer has no token for (<see cref="IsTokenless"/>).</summary>
    public Prompt Prompt(IEnumerable<int> ids) => Tokenization.Prompt.FromIds(Tokenizer, ids, Config.VocabSize);

    /// <summary>A one-turn chat (system message optional), rendered with the chat template, ready for the model's reply.</summary>
    public Prompt ChatPrompt(string user, string? system = null) =>
        ChatPrompt(system is null ? [new("user", user)] : [new("system", system), new("user", user)]);

    /// <summary>Chat messages rendered with the model's chat template and encoded (BOS comes from the template).</summary>
    public Prompt ChatPrompt(IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true) =>
        Tokenization.Prompt.FromChat(Tokenizer, messages, addGenerationPrompt);

    /// <summary>
    /// Text of generated ids, special tokens left out. A row of the model's vocabulary that the tokenizer has no token
    /// for (<see cref="IsTokenless"/>) decodes to nothing, as transformers' <c>decode</c> does; an id outside the model's
    /// vocabulary is an error.
    /// </summary>
    /// <param name="cleanUpTokenizationSpaces">The tokenizer's setting when null; false for text that is still growing.</param>
    public string Decode(IEnumerable<int> ids, bool? cleanUpTokenizationSpaces = null) =>
        Tokenizer.Decode(ids.Where(id => !IsTokenless(id)), skipSpecialTokens: true, cleanUpTokenizationSpaces);

    /// <summary>
    /// The text an id stands for, for a person (<see cref="HfTokenizer.DisplayText"/>); a row the tokenizer has no token
    /// for shows as <c>⟨id 262150: no token⟩</c>.
    /// </summary>
    public string TokenText(int id) => Tokenizer.ModelTokenText(id, Config.VocabSize);

    /// <summary>
    /// Whether <paramref name="id"/> is a row of the model's embeddings and output layer that the tokenizer has no token
    /// for: Gemma-3-4B has 262,208 rows for 262,145 tokens. The model scores such rows like any other, so a prediction,
    /// a generated token or a nearest neighbour can be one.
    /// </summary>
    public bool IsTokenless(int id) => Tokenizer.IsRowWithoutToken(id, Config.VocabSize);

    /// <summary>The id of a token given as its vocabulary string (<c>Ġcold</c>) or as text whose first token is taken (" cold").</summary>
    public int TokenId(string token)
    {
        if (Tokenizer.TokenToId(token) is int id) return id;
        var ids = Tokenizer.Encode(token, addSpecialTokens: false);
        return ids.Count > 0 ? ids[0]
            : throw new Runtime.LensException(Runtime.LensErrorKind.NotInInput, $"\"{token}\" has no tokens.", setting: "token");
    }

    /// <summary>Throws when the model can no longer be used (a <c>LensModel</c> whose weights were freed); every public member checks it first.</summary>
    private protected virtual void ThrowIfUnusable() { }

    /// <summary><paramref name="value"/>, once <see cref="ThrowIfUnusable"/> let it through.</summary>
    private protected T Usable<T>(T value)
    {
        ThrowIfUnusable();
        return value;
    }
}
