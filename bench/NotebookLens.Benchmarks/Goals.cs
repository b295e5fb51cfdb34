/// <summary>
/// The performance goals of issue #15 as the benchmarks measure them: each is printed where it is measured, and
/// <c>bench goals</c>, which runs every benchmark with a goal, prints them all again at its end.
/// </summary>
static class Goals
{
    static readonly List<string> Measured = [];

    /// <summary>A goal with a threshold: met or not, with the figure measured.</summary>
    public static void Report(string goal, bool met, string figure) => Add($"{(met ? "met" : "NOT met"),-12} {goal}: {figure}");

    /// <summary>A goal without a threshold (measured and reported), or one this machine cannot measure (why not).</summary>
    public static void Note(string goal, string figure) => Add($"{"",-12} {goal}: {figure}");

    static void Add(string line)
    {
        Measured.Add(line);
        Console.WriteLine($"  {line}");
    }

    public static void PrintAll()
    {
        Console.WriteLine();
        Console.WriteLine("goals (issue #15), as measured in this run:");
        foreach (var line in Measured) Console.WriteLine($"  {line}");
    }
}
