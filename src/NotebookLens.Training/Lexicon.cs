namespace NotebookLens.Training;

/// <summary>A word of the tiny model's world in both of its languages, with its kind (adj, color, food, animal, ...).</summary>
public sealed record Concept(string Kind, string English, string Chinese);

/// <summary>
/// The bilingual word list the curriculum is built from (source: <c>src/NotebookLens.Training/Data/lexicon.tsv</c>,
/// embedded): a few hundred concepts with their traditional-Chinese translations.
/// </summary>
public static class Lexicon
{
    public static IReadOnlyList<Concept> Concepts { get; } = Parse();

    /// <summary>The concepts of one kind, in file order.</summary>
    public static IReadOnlyList<Concept> Of(string kind)
    {
        var list = Concepts.Where(c => c.Kind == kind).ToList();
        return list.Count > 0 ? list : throw new ArgumentException($"The lexicon has no concepts of kind '{kind}'.", nameof(kind));
    }

    /// <summary>The concept whose English word is <paramref name="english"/>.</summary>
    public static Concept English(string english) =>
        Concepts.FirstOrDefault(c => c.English == english) ?? throw new KeyNotFoundException($"'{english}' is not in the lexicon.");

    static List<Concept> Parse()
    {
        using var stream = typeof(Lexicon).Assembly.GetManifestResourceStream("NotebookLens.Training.Data.lexicon.tsv")
            ?? throw new InvalidOperationException("The embedded lexicon.tsv is missing from the NotebookLens assembly.");
        using var reader = new StreamReader(stream);
        var concepts = new List<Concept>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var f = line.Split('\t');
            if (f.Length != 3) throw new InvalidDataException($"lexicon.tsv: '{line}' does not have three tab-separated fields.");
            concepts.Add(new Concept(f[0], f[1], f[2]));
        }
        return concepts;
    }
}
