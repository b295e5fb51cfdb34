using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens;

/// <summary>
/// A language model with its tokenizer: what every analysis needs (ids in, readable tokens out).
/// Loads both from one Hugging Face folder.
/// </summary>
public sealed class LensModel : IDisposable
{
    public LensModel(LanguageModel model, HfTokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
    }

    public LanguageModel Model { get; }

    public HfTokenizer Tokenizer { get; }

    public ModelConfig Config => Model.Config;

    /// <summary>Loads both from a folder or a hub id (resolved once, weights and tokenizer together).</summary>
    public static LensModel Load(string folderOrHubId, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        var folder = ModelLocator.Resolve(folderOrHubId, ModelParts.All, options.Hub, options.DownloadProgress);
        var tokenizer = HfTokenizer.Load(folder);
        return new LensModel(LanguageModel.Load(folder, options), tokenizer);
    }

    /// <summary>Ids of <paramref name="text"/> as <c>tokenizer(text)</c> (BOS added where the tokenizer adds it).</summary>
    public long[] Ids(string text, bool addSpecialTokens = true) => Tokenizer.Encode(text, addSpecialTokens).Select(i => (long)i).ToArray();

    /// <summary>Ids of a one-turn chat prompt (system message optional), ready for the model's reply.</summary>
    public long[] ChatIds(string user, string? system = null)
    {
        IEnumerable<ChatMessage> messages = system is null ? [new("user", user)] : [new("system", system), new("user", user)];
        return Tokenizer.Encode(Tokenizer.ApplyChatTemplate(messages, addGenerationPrompt: true), addSpecialTokens: false).Select(i => (long)i).ToArray();
    }

    /// <summary>Readable text of each id (see <see cref="HfTokenizer.DisplayText"/>).</summary>
    public IReadOnlyList<string> Labels(IEnumerable<long> ids) => ids.Select(i => Tokenizer.DisplayText((int)i)).ToList();

    /// <summary>Runs the ids and returns the requested outputs (single prompt, batch of one).</summary>
    public ForwardResult Forward(long[] ids, ForwardOptions? options = null)
    {
        using var input = tensor(ids);
        return Model.Forward(input, options);
    }

    public void Dispose() => Model.Dispose();
}
