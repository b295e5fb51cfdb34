namespace NotebookLens.Training;

/// <summary>An added token of a trained tokenizer and its id.</summary>
public sealed record SpecialToken(string Content, int Id);

/// <summary>A trained byte-level BPE: vocabulary, ranked merges and special tokens, ready to save as Hugging Face files.</summary>
public sealed class TrainedBpe
{
    internal TrainedBpe(IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyList<string> specialTokens)
    {
        Tokens = [.. tokens];
        Vocab = Tokens.Select((token, id) => (token, id)).ToDictionary(t => t.token, t => t.id, StringComparer.Ordinal);
        Merges = merges;
        SpecialTokens = specialTokens.Select((content, i) => new SpecialToken(content, Tokens.Count + i)).ToList();
    }

    /// <summary>The BPE vocabulary in id order, in the byte-level alphabet (<c>Ġcold</c> for " cold").</summary>
    internal IReadOnlyList<string> Tokens { get; }

    /// <summary>Byte-level token string → id, special tokens excluded (transformers' <c>vocab_size</c>).</summary>
    public IReadOnlyDictionary<string, int> Vocab { get; }

    /// <summary>The merges, lowest rank (applied first) first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>The special tokens in the order given, numbered after the BPE vocabulary as in Llama 3.</summary>
    public IReadOnlyList<SpecialToken> SpecialTokens { get; }

    /// <summary>Number of ids, special tokens included (<c>len(tokenizer)</c>).</summary>
    public int VocabSize => Vocab.Count + SpecialTokens.Count;

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> into <paramref name="folder"/> (created if missing).</summary>
    public void Save(string folder, TokenizerFileOptions options) => TokenizerFiles.Write(this, folder, options);
}
