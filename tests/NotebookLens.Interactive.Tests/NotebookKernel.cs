using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// A notebook session in this process: a real CompositeKernel with the C# kernel and our extension loaded through
/// its IKernelExtension, as a host does after <c>#r "nuget: NotebookLens.Interactive"</c>.
/// </summary>
sealed class NotebookKernel : IDisposable
{
    readonly CompositeKernel _kernel;
    readonly ModelRegistry _registry;

    NotebookKernel(CompositeKernel kernel, ModelRegistry registry, ModelMagic magic)
    {
        _kernel = kernel;
        _registry = registry;
        Magic = magic;
    }

    /// <summary>The kernel's #!model directive (tests add subcommands of their own through it).</summary>
    public ModelMagic Magic { get; }

    public Kernel Kernel => _kernel;

    public static async Task<NotebookKernel> StartAsync()
    {
        var kernel = new CompositeKernel { new CSharpKernel() };
        kernel.DefaultKernelName = "csharp";
        // A registry of its own rather than ModelRegistry.Shared, so test kernels running side by side do not see
        // each other's models; the extension's OnLoadAsync then finds #!model added and does the rest.
        var registry = new ModelRegistry();
        var magic = ModelMagic.AddTo(kernel, registry);
        await new NotebookLensKernelExtension().OnLoadAsync(kernel);
        var session = new NotebookKernel(kernel, registry, magic);
        // What #r "nuget: ..." does in a host: the C# kernel references the package's assemblies, so the --as
        // variables (our result types) can be declared.
        foreach (var assembly in new[] { typeof(LensModel), typeof(NotebookLensKernelExtension), typeof(TorchSharp.torch) })
            (await session.SubmitAsync($"#r \"{assembly.Assembly.Location}\"")).AssertSucceeded();
        return session;
    }

    public async Task<Submission> SubmitAsync(string code) => new(code, await _kernel.SendAsync(new SubmitCode(code)));

    public void Dispose()
    {
        _kernel.Dispose();
        _registry.Dispose();
    }
}

/// <summary>A cell's events, read the way a front end reads them.</summary>
sealed record Submission(string Code, KernelCommandResult Result)
{
    public IEnumerable<KernelEvent> Events => Result.Events;

    public string? Failure => Events.OfType<CommandFailed>().FirstOrDefault()?.Message;

    /// <summary>Every text/html value the cell displayed (the views), joined.</summary>
    public string Html => string.Join("\n", Formatted(HtmlFormatter.MimeType));

    public string Text => string.Join("\n", Formatted(PlainTextFormatter.MimeType));

    IEnumerable<string> Formatted(string mimeType) => Events.OfType<DisplayEvent>()
        .SelectMany(e => e.FormattedValues).Where(v => v.MimeType == mimeType).Select(v => v.Value);

    /// <summary>The value a C# expression cell returned.</summary>
    public object? ReturnValue => Events.OfType<ReturnValueProduced>().Single().Value;

    public Submission AssertSucceeded()
    {
        Assert.True(Failure is null, $"{Code}\nfailed: {Failure}");
        Assert.Contains(Events, e => e is CommandSucceeded);
        return this;
    }

    public string AssertFailed()
    {
        Assert.True(Failure is not null, $"{Code}\nsucceeded but should have failed");
        return Failure!;
    }
}
