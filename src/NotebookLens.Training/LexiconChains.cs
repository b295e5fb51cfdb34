namespace NotebookLens.Training;

/// <summary>
/// The merges that make each lexicon word one token, planned on a copy of the table: encode the word
/// as it stands, join its first two joinable tokens with a merge ranked after all others, and repeat.
/// Each merge is planned from the word's real encoding, so rank-based encoding reproduces the word.
/// </summary>
static class LexiconChains
{
    /// <summary>The merges to add, in order, and the table as it would be after them.</summary>
    public static (List<(int Left, int Right)> Merges, MergeTable After) Plan(MergeTable table, IReadOnlyList<string> byteLevelWords)
    {
        var scratch = table.Clone();
        var merges = new List<(int, int)>();
        foreach (var word in byteLevelWords)
            for (var tokens = scratch.Encode(word); tokens.Count > 1; tokens = scratch.Encode(word))
            {
                // Some pair always joins: two whole characters, or two pieces of the same character.
                int i = Enumerable.Range(0, tokens.Count - 1).First(k => scratch.CanJoin(tokens[k], tokens[k + 1]));
                merges.Add((tokens[i], tokens[i + 1]));
                scratch.Merge(tokens[i], tokens[i + 1]);
            }
        return (merges, scratch);
    }
}
