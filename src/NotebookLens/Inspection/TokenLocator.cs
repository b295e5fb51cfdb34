using NotebookLens.Tokenization;

namespace NotebookLens.Inspection;

/// <summary>Finds a word's token in a text by the word itself ("the second apple"), not by a magic index.</summary>
public static class TokenLocator
{
    /// <summary>
    /// Index (among <paramref name="tokens"/>) of the last token covering the <paramref name="occurrence"/>-th
    /// (1-based) occurrence of <paramref name="word"/> in <paramref name="text"/>: the position where the model
    /// has read the whole word.
    /// </summary>
    public static int Find(IReadOnlyList<TextToken> tokens, string text, string word, int occurrence = 1)
    {
        if (string.IsNullOrEmpty(word)) throw new ArgumentException("The word to find is empty.", nameof(word));
        if (occurrence < 1) throw new ArgumentOutOfRangeException(nameof(occurrence), "Occurrences count from 1.");
        int at = -1, found = 0;
        while (found < occurrence && (at = text.IndexOf(word, at + 1, StringComparison.Ordinal)) >= 0) found++;
        if (found < occurrence)
            throw new ArgumentException($"'{word}' occurs {found} time{(found == 1 ? "" : "s")} in \"{text}\"; occurrence {occurrence} was asked for.", nameof(word));
        int end = at + word.Length;
        for (int i = tokens.Count - 1; i >= 0; i--)
        {
            var (start, stop) = (tokens[i].Offsets.Start.Value, tokens[i].Offsets.End.Value);
            if (stop > at && start < end && stop > start) return i;
        }
        throw new InvalidOperationException($"No token covers '{word}' at character {at} of \"{text}\".");
    }
}
