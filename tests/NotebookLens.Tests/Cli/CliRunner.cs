using NotebookLens.Cli;

namespace NotebookLens.Tests.Cli;

/// <summary>Runs the CLI in-process with captured standard streams.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    public static (int Code, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, new StringReader(input), output, error);
        return (code, output.ToString(), error.ToString());
    }
}
