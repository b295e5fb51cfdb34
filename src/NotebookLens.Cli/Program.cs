using NotebookLens.Cli;

return CliApp.Run(args, Console.In, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected);
