using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Connection;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookLens.Interactive;

/// <summary>
/// One remote kernel of the notebook: a <see cref="ProxyKernel"/> under the name the user gave, in front of a
/// <see cref="RemoteProcess"/> that a reconnect replaces. Connecting installs NotebookLens in the remote kernel.
/// </summary>
sealed class RemoteKernel(string name, string[] command, string workingDirectory)
{
    public RemoteProcess Process { get; } = new(command, workingDirectory,
        KernelHost.CreateHostUri($"notebooklens-{name}-{Environment.ProcessId}"));

    public string Name => name;

    ProxyKernel? _proxy;

    public bool SameCommand(string[] other) => command.SequenceEqual(other);

    /// <summary>Whether its proxy kernel was added to the notebook (its name is taken from then on).</summary>
    public bool IsInNotebook => _proxy is not null;

    public async Task<Output> ConnectAsync(CompositeKernel root, string? feed, TimeSpan timeout, KernelInvocationContext context)
    {
        var reconnect = _proxy is not null;
        if (Process.IsRunning)
        {
            var where = await DescribeAsync(context);
            return Connected(where, $"Already connected: #!{name} cells run on the remote kernel.");
        }
        var ready = await Process.StartAsync(timeout, context.CancellationToken);
        try
        {
            if (_proxy is null)
            {
                _proxy = new ProxyKernel(name, Process, Process, Process.RemoteHostUri);
                if (ready.KernelInfos.FirstOrDefault(k => k.Uri == Process.RemoteHostUri) is { } info) _proxy.UpdateKernelInfo(info);
                // Stopping a cell that runs there stops the remote's work too (the proxy does not tell the remote).
                // Only cells: a language service request (completions while typing) is cancelled by the next keystroke,
                // which must not stop the remote's running cell.
                _proxy.AddMiddleware(async (command, context, next) =>
                {
                    await using var stop = command is SubmitCode ? context.CancellationToken.Register(() => _ = Process.CancelAsync()) : default;
                    await next(command, context);
                });
                // The remote goes with the notebook's kernel (ssh would end it too; a local command would linger).
                _proxy.RegisterForDisposal(Process);
                root.Add(_proxy);
            }
            await InstallAsync(feed ?? await CopyPackagesAsync(context), context);
            await RunCSharpAsync($"{typeof(ConnectionLifetime).FullName}.{nameof(ConnectionLifetime.EndWithParent)}();", context);
            var line = await DescribeAsync(context);
            return Connected(line, reconnect ? $"Reconnected: #!{name} cells run on a new remote kernel (what the old one held is gone)." : $"Connected: #!{name} cells run on the remote kernel.");
        }
        catch
        {
            // A kernel without NotebookLens is no use: the same line run again starts over.
            Process.Kill();
            throw;
        }
    }

    /// <summary>
    /// Runs a <c>#!model</c> command of a cell that runs on this remote kernel there: the command itself goes over (its
    /// type is registered on both sides, as .NET Interactive's typed directives are meant to travel), the remote's
    /// outputs come into the cell as they are made, its failure is the cell's failure, and stopping the cell stops
    /// the remote's work.
    /// </summary>
    public async Task ForwardAsync(KernelCommand command, KernelInvocationContext context)
    {
        // The remote's root kernel has #!model's handlers; the local kernel names and addresses mean nothing there.
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(KernelCommandEnvelope.Serialize(KernelCommandEnvelope.Create(command)))!.AsObject();
        envelope.Remove("routingSlip");
        foreach (var local in new[] { "targetKernelName", "destinationUri", "originUri" }) envelope["command"]!.AsObject().Remove(local);
        var copy = KernelCommandEnvelope.Deserialize(envelope.ToJsonString()).Command;
        var events = await Process.RunAsync(copy, context.CancellationToken, e =>
        {
            if (e is not KernelCommandCompletionEvent) context.Publish(e);
        });
        if (events.OfType<CommandFailed>().FirstOrDefault(f => f.Command.GetOrCreateToken() == copy.GetOrCreateToken()) is { } failed)
            throw new RemoteFailure(failed.Message);
    }

    static Output Connected(string where, string note) => new(where, SessionViews.Line(note + " " + where));

    /// <summary>
    /// <c>#i</c>/<c>#r</c> cannot go through a proxy kernel (the local parser wants to run them), so a C# cell on the
    /// remote submits them to its own root kernel and fails with the restore's error.
    /// </summary>
    async Task InstallAsync(string feed, KernelInvocationContext context)
    {
        var install = $"#i \"nuget: {feed}\"\n#r \"nuget: {PackageId}, {Version}\"";
        // In a block, so that the remote's C# variables stay the user's.
        var code = $$"""
            {
                var installed = await Microsoft.DotNet.Interactive.Kernel.Root.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode({{CSharpString(install)}}, "csharp"));
                if (installed.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>().FirstOrDefault() is { } failed) throw new System.Exception(failed.Message);
            }
            """;
        var events = await Process.RunAsync(new SubmitCode(code, "csharp"), context.CancellationToken);
        if (events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
            throw new MagicException($"Installing NotebookLens on the remote kernel from {feed} failed: {failed.Message.Trim()}",
                "Give --feed a NuGet feed the remote machine can read (a folder there or a URL) holding the NotebookLens packages, or leave --feed out to copy this kernel's packages over.");
    }

    /// <summary>The NotebookLens packages this kernel loaded: beside each assembly in the NuGet package folder it came from.</summary>
    static IReadOnlyList<string> LocalPackages()
    {
        Type[] packages = [typeof(NotebookLens.Templates.JinjaTemplate), typeof(LensModel), typeof(NotebookLens.Views.View), typeof(RemoteKernel)];
        return packages.Select(type =>
        {
            var id = type.Assembly.GetName().Name!.ToLowerInvariant();
            for (var dir = Path.GetDirectoryName(type.Assembly.Location); dir is not null; dir = Path.GetDirectoryName(dir))
                if (Path.Combine(dir, $"{id}.{Version}.nupkg") is var nupkg && File.Exists(nupkg)) return nupkg;
            throw new MagicException($"This kernel did not load {id} from a NuGet package, so there is nothing to copy to the remote.",
                "Give --feed a NuGet feed the remote machine can read (a folder there or a URL) holding the NotebookLens packages.");
        }).ToList();
    }

    /// <summary>
    /// Copies this kernel's NotebookLens packages into a feed folder on the remote, in chunks of C# (the connection
    /// carries only commands). A package of the same version the remote cached from another build is dropped there
    /// first (with the restore cache that remembers it), so the remote runs exactly this build.
    /// </summary>
    async Task<string> CopyPackagesAsync(KernelInvocationContext context)
    {
        var packages = LocalPackages();
        var feed = await RunCSharpAsync(
            $"System.IO.Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), \"notebooklens-feed-{Version}-\" + System.Environment.UserName)).FullName", context);
        foreach (var package in packages)
        {
            var bytes = await File.ReadAllBytesAsync(package, context.CancellationToken);
            var target = CSharpString(Path.Combine(feed, Path.GetFileName(package)).Replace('\\', '/'));
            for (var at = 0; at < bytes.Length || at == 0; at += ChunkBytes)
            {
                var chunk = Convert.ToBase64String(bytes, at, Math.Min(ChunkBytes, bytes.Length - at));
                await RunCSharpAsync($"using (var file = new System.IO.FileStream({target}, System.IO.FileMode.{(at == 0 ? "Create" : "Append")})) file.Write(System.Convert.FromBase64String(\"{chunk}\"));", context);
            }
            var sha512 = Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(bytes));
            var id = Path.GetFileName(package)[..^$".{Version}.nupkg".Length];
            await RunCSharpAsync($$"""
                foreach (var packages in new[] { System.Environment.GetEnvironmentVariable("NUGET_PACKAGES"), System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages") })
                {
                    if (string.IsNullOrEmpty(packages)) continue;
                    var cached = System.IO.Path.Combine(packages, "{{id}}", "{{Version}}");
                    var hash = System.IO.Path.Combine(cached, "{{id}}.{{Version}}.nupkg.sha512");
                    if (!System.IO.Directory.Exists(cached) || (System.IO.File.Exists(hash) && System.IO.File.ReadAllText(hash).Trim() == "{{sha512}}")) continue;
                    System.IO.Directory.Delete(cached, true);
                    var restoreCache = System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".packagemanagement", "nuget", "Cache");
                    if (System.IO.Directory.Exists(restoreCache))
                        foreach (var file in System.IO.Directory.GetFiles(restoreCache))
                            if (System.IO.File.ReadAllText(file).Contains("notebooklens", System.StringComparison.OrdinalIgnoreCase)) System.IO.File.Delete(file);
                }
                """, context);
        }
        return feed;
    }

    const int ChunkBytes = 1 << 19;

    /// <summary>Runs C# on the remote kernel, out of the cell's sight; the value of its last expression, as text.</summary>
    async Task<string> RunCSharpAsync(string code, KernelInvocationContext context)
    {
        var events = await Process.RunAsync(new SubmitCode(code, "csharp"), context.CancellationToken);
        if (events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
            throw new MagicException($"The remote kernel failed: {failed.Message.Trim()}", "Reconnect with the same #!model connect line.");
        return events.OfType<ReturnValueProduced>().SelectMany(e => e.FormattedValues)
            .FirstOrDefault(v => v.MimeType == PlainTextFormatter.MimeType)?.Value ?? "";
    }

    /// <summary>The line that says where the remote's cells run, made there.</summary>
    Task<string> DescribeAsync(KernelInvocationContext context) =>
        RunCSharpAsync($"{typeof(WhereCellsRun).FullName}.{nameof(WhereCellsRun.Describe)}()", context);

    static string PackageId => typeof(RemoteKernel).Assembly.GetName().Name!;

    static string Version => typeof(RemoteKernel).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];

    static string CSharpString(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}

/// <summary>A command failed on the remote kernel: its message is the whole story (the remote already worded it).</summary>
sealed class RemoteFailure(string message) : Exception(message);
