using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using NotebookLens.Cli.Commands;

namespace NotebookLens.Cli;

/// <summary>System.CommandLine's help, then a verb's examples: command lines a student can copy.</summary>
sealed class HelpWithExamples(HelpAction help) : SynchronousCommandLineAction
{
    // Like help itself: asking for help is not a mistake, whatever else is on the command line.
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        int code = help.Invoke(parseResult);
        if (parseResult.CommandResult.Command is Verb { Examples.Count: > 0 } verb)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var example in verb.Examples) output.WriteLine($"  {CliApp.Name} {example}");
            output.WriteLine();
        }
        return code;
    }
}
