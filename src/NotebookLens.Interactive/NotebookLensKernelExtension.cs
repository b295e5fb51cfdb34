using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Runtime;
using NotebookLens.Views;

namespace NotebookLens.Interactive;

/// <summary>
/// Loaded by the notebook host after <c>#r "nuget: NotebookLens.Interactive, ..."</c>: prepares TorchSharp's native
/// library, lets Plotly.NET run on the host's FSharp.Core, registers the result views and adds <c>#!model</c>.
/// </summary>
public sealed class NotebookLensKernelExtension : IKernelExtension
{
    public Task OnLoadAsync(Kernel kernel)
    {
        TorchRuntime.EnsureLoaded();
        FSharpCoreRedirect.Install();
        RegisterFormatters();
        // On the root kernel, #!model works in every cell whatever its language; variables go to the C# kernel.
        // The process's registry: C# code (ModelRegistry.Shared) sees the models #!model loaded.
        ModelMagic.AddTo(kernel.RootKernel, ModelRegistry.Shared);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Every result type of the core (and TorchSharp's Tensor) shows its NotebookLens.Views view when a C# cell
    /// returns or displays it, in HTML and plain text.
    /// </summary>
    static void RegisterFormatters()
    {
        foreach (var type in LensViews.SupportedTypes)
        {
            Formatter.Register(type, (value, writer) => writer.Write(NotebookViews.Output.Render(LensViews.Of(value))), HtmlFormatter.MimeType);
            Formatter.Register(type, (value, writer) => writer.Write(LensViews.Of(value).Text), PlainTextFormatter.MimeType);
        }
    }
}
