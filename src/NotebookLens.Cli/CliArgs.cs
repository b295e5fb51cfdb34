using System.Globalization;

namespace NotebookLens.Cli;

/// <summary>A usage mistake: the message says what to type instead. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> options and <c>--flag</c> switches; a name the verb does not know is an error.</summary>
public sealed class CliArgs
{
    readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

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
            if (flags.Contains(name)) _values[name] = null;
            else if (e.MoveNext()) _values[name] = e.Current;
            else throw new UsageException($"--{name} needs a value");
        }
    }

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>A whole number ≥ <paramref name="min"/>, or <paramref name="fallback"/> when the option is absent.</summary>
    public int Int(string name, int fallback, int min = 0) => Get(name) is { } v ? ParseInt(v, name, min) : fallback;

    public double Double(string name, double fallback) => Get(name) is { } v ? ParseDouble(v, name) : fallback;

    public static int ParseInt(string value, string name, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v
            : throw new UsageException($"--{name}: '{value}' is not a whole number{(min == int.MinValue ? "" : $" ≥ {min}")}");

    public static double ParseDouble(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new UsageException($"--{name}: '{value}' is not a number");
}
