using Microsoft.DotNet.Interactive.Commands;

namespace NotebookLens.Interactive.Commands;

// One command type per #!model subcommand: .NET Interactive binds a subcommand's parameters to the properties of
// its command type by name (--max-new-tokens -> MaxNewTokens). Values stay strings and are parsed by the handlers,
// so a bad number gets our error message, not a JSON one.

/// <summary>The options every <c>#!model</c> subcommand takes.</summary>
public abstract class ModelCommand : KernelDirectiveCommand
{
    /// <summary><c>--model N</c>: the loaded model to use instead of the current one.</summary>
    public string? Model { get; set; }

    /// <summary><c>--as VAR</c>: the C# variable that receives the typed result.</summary>
    public string? As { get; set; }
}

public sealed class ModelLoadCommand : ModelCommand
{
    public string? Source { get; set; }
    public string? Name { get; set; }
    public string? Dtype { get; set; }
    public string? Device { get; set; }
}

public sealed class ModelListCommand : ModelCommand;

public sealed class ModelUseCommand : ModelCommand
{
    public string? Name { get; set; }
}

public sealed class ModelUnloadCommand : ModelCommand
{
    public string? Name { get; set; }
}

public sealed class ModelInfoCommand : ModelCommand;

public sealed class ModelParamsCommand : ModelCommand
{
    public string? Filter { get; set; }
}

public sealed class ModelTokensCommand : ModelCommand
{
    public string? Text { get; set; }
}

public sealed class ModelChatCommand : ModelCommand
{
    public string? Text { get; set; }
    public string? System { get; set; }
}

public sealed class ModelWeightsCommand : ModelCommand
{
    public string? Name { get; set; }
    public string? Rows { get; set; }
    public string? Cols { get; set; }
}

public sealed class ModelConnectCommand : ModelCommand
{
    public string? KernelName { get; set; }
    /// <summary>A JSON array, as <c>#!connect stdio --command</c> takes it.</summary>
    public string[]? Command { get; set; }
    public string? Feed { get; set; }
    public string? WorkingDirectory { get; set; }
    public string? Timeout { get; set; }
}

public sealed class ModelDisconnectCommand : ModelCommand
{
    public string? KernelName { get; set; }
}
