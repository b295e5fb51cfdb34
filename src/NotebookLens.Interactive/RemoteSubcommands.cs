using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Connection;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Interactive.Commands;
using static NotebookLens.Interactive.OptionValues;
using Usage = NotebookLens.Interactive.ModelMagic.Usage;

namespace NotebookLens.Interactive;

/// <summary>
/// <c>#!model connect</c>: a kernel on another machine (a GPU box) as a kernel of this notebook, with NotebookLens
/// installed in it, so that its cells take every <c>#!model</c> subcommand and the C# API.
/// </summary>
static class RemoteSubcommands
{
    public static void AddAll(ModelMagic magic)
    {
        magic.Add<ModelConnectCommand>(
            new("connect", "connect --kernel-name NAME --command [\"ssh\",\"gpu-box\",\"dotnet-interactive\",\"stdio\"] [--feed PATH_OR_URL]",
                "Starts a kernel on another machine through a command (ssh), installs NotebookLens there and adds it as the kernel NAME: #!NAME cells run there. Reconnects when run again."),
            [
                new("--kernel-name", "The name of the remote kernel in this notebook (#!NAME cells run there)"),
                new("--command", "The command that starts `dotnet-interactive stdio` on the remote, as a JSON array: [\"ssh\",\"gpu-box\",\"dotnet-interactive\",\"stdio\"]"),
                new("--feed", "A NuGet feed the remote can reach with the NotebookLens packages (a folder on the remote, or a URL); default: copy this kernel's NotebookLens packages over"),
                new("--working-directory", "Where the command starts on this machine (default: the kernel's current directory)"),
                new("--timeout", "Seconds to wait for the remote kernel to start (default 120)"),
            ],
            (command, context) => RemoteKernels.ConnectAsync(command, context));

        magic.Add<ModelDisconnectCommand>(new("disconnect", "disconnect NAME", "Ends a connected remote kernel's process (what runs there fails); #!model connect starts a new one."),
            [new KernelDirectiveParameter("--kernel-name", "A kernel #!model connect added") { AllowImplicitName = true }],
            (command, context) => Task.FromResult(RemoteKernels.Disconnect(context.HandlingKernel.RootKernel, Required(command.KernelName, "disconnect", "the remote kernel's name", "#!model disconnect gpu"))));
    }
}

/// <summary>The remote kernels each notebook (root kernel) connected, by name: a reconnect reuses the kernel of that name.</summary>
static class RemoteKernels
{
    const string Example = "#!model connect --kernel-name gpu --command [\"ssh\",\"gpu-box\",\"dotnet-interactive\",\"stdio\"]";
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Dictionary<string, RemoteKernel>> ByRoot = new();

    static Dictionary<string, RemoteKernel> Of(Kernel root) => ByRoot.GetValue(root, _ => []);

    public static async Task<Output> ConnectAsync(ModelConnectCommand command, KernelInvocationContext context)
    {
        var name = Required(command.KernelName, "connect", "--kernel-name", Example);
        CSharpNames.Check(name, "a kernel name", "--kernel-name gpu");
        var arguments = command.Command is { Length: > 0 } given && given.All(a => !string.IsNullOrEmpty(a))
            ? given
            : throw new MagicException("#!model connect needs --command, the command that starts the remote kernel, as a JSON array of strings.", $"For example: {Example}");
        var timeout = TimeSpan.FromSeconds(Int(command.Timeout, "--timeout", 120, min: 1));
        if (context.HandlingKernel?.RootKernel is not CompositeKernel root)
            throw new MagicException("#!model connect needs a notebook kernel (a CompositeKernel).", "Run it in a notebook cell.");

        var connected = Of(root);
        RemoteKernel remote;
        lock (connected)
        {
            if (connected.TryGetValue(name, out var existing))
            {
                if (!existing.SameCommand(arguments))
                    throw new MagicException($"The kernel '{name}' is connected with another command ({existing.Process.CommandLine}).",
                        "Pick another --kernel-name, or give the same --command to reconnect.");
                remote = existing;
            }
            else if (root.FindKernelByName(name) is not null)
                throw new MagicException($"This notebook already has a kernel named '{name}'.", "Pick another --kernel-name.");
            else
                remote = new RemoteKernel(name, arguments, command.WorkingDirectory ?? Environment.CurrentDirectory);
        }
        try
        {
            return await remote.ConnectAsync(root, command.Feed, timeout, context);
        }
        finally
        {
            // Once its kernel is in the notebook the name is taken: only the same command may reconnect it.
            if (remote.IsInNotebook) lock (connected) connected[name] = remote;
        }
    }

    public static Output Disconnect(Kernel root, string name)
    {
        var connected = Of(root);
        RemoteKernel? remote;
        lock (connected) connected.TryGetValue(name, out remote);
        if (remote is null)
            throw new MagicException($"No remote kernel named '{name}' is connected.", "#!model connect adds one.");
        remote.Process.Kill();
        return new Output(name, SessionViews.Line($"Disconnected {name}: its process ended. #!model connect with the same line starts a new one."));
    }

    /// <summary>
    /// The remote kernel a <c>#!model</c> command's cell runs on, if it runs on one: the kernel named by the last
    /// kernel line (<c>#!gpu</c>) above the command's line, else the cell's kernel (a notebook cell's kernel picker).
    /// Connecting and disconnecting always run here.
    /// </summary>
    public static RemoteKernel? RunsOn(KernelCommand command, Kernel root)
    {
        if (command is ModelConnectCommand or ModelDisconnectCommand || command.Parent is not SubmitCode cell) return null;
        var connected = Of(root);
        lock (connected)
            if (connected.Count == 0) return null;
        var kernel = cell.TargetKernelName;
        foreach (var line in cell.Code.Split('\n').Select(l => l.Trim()))
        {
            if (line.StartsWith(ModelMagic.DirectiveName + " ", StringComparison.Ordinal) || line == ModelMagic.DirectiveName) break;
            if (line.StartsWith("#!", StringComparison.Ordinal) && !line.Contains(' ') && root.FindKernelByName(line[2..]) is { } selected)
                kernel = selected.Name;
        }
        lock (connected)
            return kernel is not null && connected.TryGetValue(kernel, out var remote) ? remote : null;
    }
}
