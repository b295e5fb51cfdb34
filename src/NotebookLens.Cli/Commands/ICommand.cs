namespace NotebookLens.Cli.Commands;

public interface ICommand
{
    string Name { get; }

    /// <summary>One line: the verb and its options.</summary>
    string Usage { get; }

    /// <summary>Options that take a value.</summary>
    IReadOnlySet<string> Options { get; }

    /// <summary>Options that take no value.</summary>
    IReadOnlySet<string> Flags { get; }

    /// <summary>Runs the verb; returns the process exit code.</summary>
    int Run(CliArgs args, CliIO io);
}

/// <summary>
/// Standard input, output and error of one run (tests pass their own); <paramref name="Interactive"/> when standard
/// error is a terminal, where progress is drawn as a live line.
/// </summary>
public sealed record CliIO(TextReader Input, TextWriter Output, TextWriter Error, bool Interactive = false);
