using NotebookLens.Tokenization;

namespace NotebookLens.Training;

/// <summary>
/// Trains a byte-level BPE tokenizer the way Llama 3's works (same split, same byte alphabet), so the
/// result saves as a Hugging Face <c>tokenizer.json</c> that <see cref="HfTokenizer"/> loads like Llama 3's.
/// </summary>
public static class BpeTrainer
{
    // Once the vocabulary comes this close to the room the lexicon needs, each merge is tried on a copy
    // first: a merge can change how many tokens the lexicon words still lack.
    const int ReserveMargin = 64;

    /// <summary>
    /// Learns merges from <paramref name="texts"/>: the most frequent adjacent pair first (ties by the
    /// pair's strings), then the merges the lexicon words still need, ranked so that each word encodes
    /// to one token. The same inputs give the same tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">The vocabulary cannot hold the bytes, the special tokens and the lexicon words.</exception>
    public static TrainedBpe Train(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        Validate(options);
        // Sorted, because a lexicon given as a HashSet enumerates in a different order in every process.
        var lexicon = options.Lexicon.Select(ByteLevelAlphabet.Encode).Distinct().Order(StringComparer.Ordinal).ToList();
        int modelSize = options.VocabSize - options.SpecialTokens.Count;
        var table = MergeTable.Bytes();
        int reserve = LexiconChains.Plan(table, lexicon).After.Count - table.Count;
        if (table.Count + reserve > modelSize)
            throw new ArgumentException(
                $"VocabSize {options.VocabSize} is too small: it must hold the 256 byte tokens, the {options.SpecialTokens.Count} special tokens " +
                $"and the {reserve} tokens that make the {lexicon.Count} lexicon words single tokens, {table.Count + reserve + options.SpecialTokens.Count} in all.",
                nameof(options));

        var pairs = new PairCounts(table, TrainingUnits.Count(texts, options.SpecialTokens, options.Lexicon));
        bool lexiconPending = lexicon.Count > 0;
        while (table.Count < modelSize && pairs.TryPeekBest(options.MinFrequency, out var pair))
        {
            if (lexiconPending && table.Count + reserve + ReserveMargin >= modelSize)
            {
                var trial = table.Clone();
                trial.Merge(pair.Left, pair.Right);
                reserve = LexiconChains.Plan(trial, lexicon).After.Count - trial.Count;
                if (trial.Count + reserve > modelSize)
                {
                    AddLexicon(table, pairs, lexicon, modelSize);
                    lexiconPending = false;
                    continue;
                }
            }
            pairs.Merge(pair.Left, pair.Right, table.Merge(pair.Left, pair.Right));
        }
        if (lexiconPending) AddLexicon(table, pairs, lexicon, modelSize);

        return new TrainedBpe(table.Tokens, table.Merges.Select(m => (table[m.Left], table[m.Right])).ToList(), options.SpecialTokens);
    }

    static void AddLexicon(MergeTable table, PairCounts pairs, IReadOnlyList<string> lexicon, int modelSize)
    {
        foreach (var (left, right) in LexiconChains.Plan(table, lexicon).Merges)
            pairs.Merge(left, right, table.Merge(left, right));
        // Reached only if one merge outside the margin grew the lexicon's needs by more than the margin.
        if (table.Count > modelSize)
            throw new InvalidOperationException($"The lexicon needed more tokens than were reserved for it ({table.Count} > {modelSize}); train with a larger VocabSize.");
    }

    static void Validate(BpeTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinFrequency < 0)
            throw new ArgumentException($"MinFrequency must not be negative (it is {options.MinFrequency}).", nameof(options));
        if (options.SpecialTokens.Any(string.IsNullOrEmpty))
            throw new ArgumentException("Special tokens must be non-empty strings.", nameof(options));
        if (options.SpecialTokens.Distinct(StringComparer.Ordinal).Count() != options.SpecialTokens.Count)
            throw new ArgumentException("Special tokens must be distinct.", nameof(options));
        foreach (var word in options.Lexicon)
        {
            if (string.IsNullOrEmpty(word))
                throw new ArgumentException("Lexicon words must be non-empty strings.", nameof(options));
            // A special token inside a word is cut out before BPE, so the word could never be one token.
            if (options.SpecialTokens.FirstOrDefault(s => word.Contains(s, StringComparison.Ordinal)) is { } special)
                throw new ArgumentException($"Lexicon word '{word}' contains the special token '{special}'.", nameof(options));
        }
    }
}
