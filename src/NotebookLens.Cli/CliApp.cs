using NotebookLens.Cli.Commands;

namespace NotebookLens.Cli;

/// <summary>The command-line front end: one verb per lecture step, human output by default, JSON for scripts.</summary>
public static class CliApp
{
    static readonly Dictionary<string, ICommand> Commands = new ICommand[]
    {
        new InfoCommand(),
        new TokenizeCommand(),
        new ChatCommand(),
        new GenerateCommand(),
        new DumpCommand(),
        new DownloadCommand(),
        new NeighborsCommand(),
        new ArithmeticCommand(),
        new SimilarityCommand(),
        new LensCommand(),
        new AttentionCommand(),
        new NeuronsCommand(),
        new PcaCommand(),
        new RefusalCommand(),
        new PatchscopeCommand(),
        new TrainTinyCommand(),
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <param name="interactive">Standard error is a terminal: downloads draw a live progress line.</param>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error, bool interactive = false)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Usage(args.Length == 0 ? error : output);
            return args.Length == 0 ? 2 : 0;
        }
        if (!Commands.TryGetValue(args[0], out var command))
        {
            error.WriteLine($"error: unknown command '{args[0]}'");
            Usage(error);
            return 2;
        }
        try
        {
            var parsed = new CliArgs(args.Skip(1), command.Options, command.Flags);
            return command.Run(parsed, new CliIO(input, output, error, interactive));
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            error.WriteLine($"usage: NotebookLens.Cli {command.Usage}");
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

    static void Usage(TextWriter w)
    {
        w.WriteLine("NotebookLens.Cli — look inside language models");
        w.WriteLine();
        foreach (var c in Commands.Values) w.WriteLine($"  {c.Usage}");
    }
}
