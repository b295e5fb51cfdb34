namespace NotebookLens.Cli;

/// <summary>A usage mistake: the message says what to type instead. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary><c>--name value</c> options and <c>--flag</c> switches; anything not asked for is an error.</summary>
public sealed class CliArgs
{
    readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new UsageException($"unexpected argument '{a}'; options start with --");
            var name = a[2..];
            if (flags.Contains(name)) _values[name] = null;
            else if (e.MoveNext()) _values[name] = e.Current;
            else throw new UsageException($"--{name} needs a value");
        }
    }

    public string? Get(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : null;
    }

    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required");

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Call after reading every option: a misspelt one must not be silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
