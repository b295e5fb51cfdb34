namespace NotebookLens.Steering;

/// <summary>
/// Instruction lists for the refusal experiment: one instruction per line, blank lines skipped. The defaults are
/// embedded in the library (source: <c>src/NotebookLens/Steering/Data/harmful.txt</c> and <c>harmless.txt</c>, 64
/// each): clearly harmful requests as a safety course would phrase them — the requests only, nothing operational —
/// and everyday harmless ones, with topics mixed so that any leading slice covers many kinds.
/// </summary>
public static class InstructionSets
{
    public static IReadOnlyList<string> Harmful { get; } = Embedded("harmful.txt");

    public static IReadOnlyList<string> Harmless { get; } = Embedded("harmless.txt");

    /// <summary>The instructions of a text file, one per line.</summary>
    public static IReadOnlyList<string> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Instruction file not found: {path} (one instruction per line).", path);
        var instructions = Parse(File.ReadAllText(path));
        return instructions.Count > 0 ? instructions : throw new InvalidDataException($"{path} has no instructions (one per line).");
    }

    /// <summary>One instruction per line, trimmed; blank lines skipped.</summary>
    public static IReadOnlyList<string> Parse(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToList();

    static IReadOnlyList<string> Embedded(string name)
    {
        using var stream = typeof(InstructionSets).Assembly.GetManifestResourceStream("NotebookLens.Steering.Data." + name)
            ?? throw new InvalidOperationException($"The embedded instruction set {name} is missing from the NotebookLens assembly.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }
}
