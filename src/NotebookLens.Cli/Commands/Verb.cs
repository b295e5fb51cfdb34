using System.CommandLine;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// A verb of the CLI: its options, each declared once with its description, default and checks, and what it does with
/// their values. A value out of range is a parse error; options that do not go together are found once every value
/// parsed, before any work: both are usage mistakes (exit 2).
/// </summary>
public abstract class Verb : Command
{
    /// <param name="io">The run's streams, which the verb reads and writes when it runs.</param>
    /// <param name="examples">Command lines (after the program's name) that help shows under "Examples".</param>
    protected Verb(CliIO io, string name, string description, params string[] examples) : base(name, description)
    {
        Examples = examples;
        SetAction(args => Mistake(args) is { } mistake ? throw new UsageException(mistake) : Run(args, io));
    }

    readonly List<Func<ParseResult, string?>> _rules = [];

    public IReadOnlyList<string> Examples { get; }

    /// <summary>Runs the verb with the parsed options (their values valid); returns the process exit code.</summary>
    protected abstract int Run(ParseResult args, CliIO io);

    /// <summary>Adds <paramref name="option"/> to the verb and gives it back, to read its value when the verb runs.</summary>
    public T Declare<T>(T option) where T : Option
    {
        Add(option);
        return option;
    }

    /// <summary>
    /// A rule over several options, checked before the verb runs: <paramref name="mistake"/> gives the message of a
    /// usage mistake, or null. (Not a System.CommandLine validator: those run before the options' own checks and hide them.)
    /// </summary>
    protected void Check(Func<ParseResult, string?> mistake) => _rules.Add(mistake);

    /// <summary>The first rule the parsed options break, or null.</summary>
    internal string? Mistake(ParseResult args) => _rules.Select(rule => rule(args)).FirstOrDefault(m => m is not null);

    /// <summary>The option is on the command line (not only its default).</summary>
    protected static bool Given(ParseResult args, Option option) => args.GetResult(option) is { Implicit: false };
}

/// <summary>
/// Standard input, output and error of one run (tests pass their own); <paramref name="Interactive"/> when standard
/// error is a terminal, where progress is drawn as a live line.
/// </summary>
public sealed record CliIO(TextReader Input, TextWriter Output, TextWriter Error, bool Interactive = false);
