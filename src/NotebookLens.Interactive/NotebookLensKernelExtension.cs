using Microsoft.DotNet.Interactive;
using NotebookLens.Runtime;

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
    /// Where the views of src/NotebookLens.Views plug in (Formatter.Register for every core result type and
    /// TorchSharp's Tensor), so a result returned from a C# cell shows its view. Nothing is registered yet.
    /// </summary>
    static void RegisterFormatters()
    {
    }
}
