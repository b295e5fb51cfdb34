namespace NotebookLens.Training;

/// <summary>What <see cref="BpeTrainer"/> learns: the vocabulary size, the special tokens, and the words that must stay whole.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>
    /// Total number of ids, special tokens included (Llama 3: 128,256). Reached exactly unless the corpus
    /// runs out of pairs to merge (or of pairs seen <see cref="MinFrequency"/> times); never exceeded.
    /// </summary>
    public required int VocabSize { get; init; }

    /// <summary>Added tokens, in id order after the BPE vocabulary (e.g. <c>&lt;|begin_of_text|&gt;</c>, <c>&lt;|eot_id|&gt;</c>).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [];

    /// <summary>
    /// Words that must each be a single token, spelled as they appear in text (<c>" cold"</c>, <c>"cold"</c>, <c>"蘋果"</c>).
    /// Han words among them also cut Chinese text into words for counting, so no merge spans two words.
    /// </summary>
    public IReadOnlyCollection<string> Lexicon { get; init; } = [];

    /// <summary>A pair seen fewer times than this is never merged for its frequency (lexicon merges are made regardless).</summary>
    public int MinFrequency { get; init; }
}
