using System.Globalization;

namespace NotebookLens.Cli;

/// <summary>A usage mistake: the message says what to type instead. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> options and <c>--flag</c> switches; a name the verb does not know is an error.</summary>
public sealed class CliArgs
{
    readonly Dictionary<string, List<string?>> _values = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args, IReadOnlySet<string> options, IReadOnlySet<string> flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new UsageException($"unexpected argument '{a}'; options start with --");
            var name = a[2..];
            if (!options.Contains(name) && !flags.Contains(name))
                throw new UsageException($"unknown option --{name}");
            if (!_values.TryGetValue(name, out var values)) _values[name] = values = [];
            if (flags.Contains(name)) values.Add(null);
            else if (e.MoveNext()) values.Add(e.Current);
            else throw new UsageException($"--{name} needs a value");
        }
    }

    /// <summary>The option's value; given twice, the last one wins.</summary>
    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    /// <summary>Every value of an option that may be repeated (<c>--sentence A --sentence B</c>).</summary>
    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var v) ? v.OfType<string>().ToList() : [];

    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when the option is absent.</summary>
    public int Int(string name, int fallback, int min = 0, int max = int.MaxValue) => Get(name) is { } v ? ParseInt(v, name, min, max) : fallback;

    public double Double(string name, double fallback) => Get(name) is { } v ? ParseDouble(v, name) : fallback;

    public static int ParseInt(string value, string name, int min, int max = int.MaxValue) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v
            : throw new UsageException($"--{name}: '{value}' is not a whole number{(min == int.MinValue ? "" : $" ≥ {min}")}{(max == int.MaxValue ? "" : $" ≤ {max}")}");

    public static double ParseDouble(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new UsageException($"--{name}: '{value}' is not a number");
}
