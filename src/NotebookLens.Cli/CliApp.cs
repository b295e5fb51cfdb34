using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using NotebookLens.Cli.Commands;

namespace NotebookLens.Cli;

/// <summary>
/// The command-line front end: one verb per lecture step, human output by default, JSON for scripts. Exit codes: 0
/// success, 1 a problem with the input (a model, a file, a value the model cannot use), 2 a usage mistake.
/// </summary>
public static class CliApp
{
    /// <summary>The program's name in help and messages.</summary>
    public const string Name = "NotebookLens.Cli";

    // A value starting with @ is text, not a response file; no single-letter options to bundle.
    static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null, EnablePosixBundling = false };

    /// <summary>Every verb, for one run with these streams.</summary>
    internal static RootCommand Root(CliIO io)
    {
        var root = new RootCommand("NotebookLens: look inside language models. Run a verb with --help to see its options and examples.")
        {
            new InfoCommand(io),
            new TokenizeCommand(io),
            new ChatCommand(io),
            new GenerateCommand(io),
            new DumpCommand(io),
            new DownloadCommand(io),
            new NeighborsCommand(io),
            new ArithmeticCommand(io),
            new SimilarityCommand(io),
            new LensCommand(io),
            new AttentionCommand(io),
            new NeuronsCommand(io),
            new PcaCommand(io),
            new RefusalCommand(io),
            new PatchscopeCommand(io),
            new TrainTinyCommand(io),
        };
        root.HelpName = Name;
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!);
        return root;
    }

    internal static ParseResult Parse(IReadOnlyList<string> args, CliIO io) => Root(io).Parse(args, Parsing);

    /// <param name="interactive">Standard error is a terminal: downloads draw a live progress line.</param>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error, bool interactive = false)
    {
        var parsed = Parse(args, new CliIO(input, output, error, interactive));
        if (parsed.Action is ParseErrorAction mistake) return UsageMistake(parsed, mistake, error);
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            error.WriteLine(HelpHint(parsed));
            return 2;
        }
        catch (NotebookLens.Runtime.LensException e)
        {
            error.WriteLine($"error: {e.Problem}{(Remedy(e) is { } remedy ? " " + remedy : "")}");
            return 1;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException
                                   or KeyNotFoundException or UnauthorizedAccessException or PlatformNotSupportedException or OutOfMemoryException
                                   or NotebookLens.Templates.TemplateException
                                   or System.Runtime.InteropServices.ExternalException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// Everything about a usage mistake goes to standard error: what is wrong, System.CommandLine's suggestions for a
    /// mistyped verb or option, and the verbs (no verb or an unknown one) or where to find the verb's options.
    /// </summary>
    static int UsageMistake(ParseResult parsed, ParseErrorAction suggestions, TextWriter error)
    {
        foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
        bool noVerb = parsed.CommandResult.Command is RootCommand;
        suggestions.ShowHelp = noVerb;
        // The action writes its suggestions (and help) to Output, and to Error the errors already written above.
        parsed.Invoke(new InvocationConfiguration { Output = error, Error = TextWriter.Null });
        if (!noVerb) error.WriteLine(HelpHint(parsed));
        return 2;
    }

    static string HelpHint(ParseResult parsed) => $"See '{Name} {parsed.CommandResult.Command.Name} --help' for its options.";

    /// <summary>The core's remedy in this CLI's terms (its options), or as the core words it.</summary>
    static string? Remedy(NotebookLens.Runtime.LensException e)
    {
        if (e is not NotebookLens.Steering.NoRefusalDirectionException { Selection: var s }) return e.Remedy;
        int Count(NotebookLens.Steering.DiscardReason r) => s.DiscardCounts.GetValueOrDefault(r);
        var remedies = new List<string>();
        if (Count(NotebookLens.Steering.DiscardReason.LateLayer) > 0) remedies.Add("prune fewer layers (--prune-layers 0)");
        if (Count(NotebookLens.Steering.DiscardReason.HighKlDivergence) > 0) remedies.Add("raise the KL threshold (--kl-threshold X or none)");
        if (Count(NotebookLens.Steering.DiscardReason.InducesNoRefusal) > 0)
            remedies.Add("lower or turn off the steering threshold (--steering-threshold none; a model without trained refusal behaviour, such as random weights or a base model, never passes it)");
        remedies.Add("use other layers or instructions (--layer L, --harmful, --harmless)");
        return $"To relax them: {string.Join("; ", remedies)}.";
    }
}
