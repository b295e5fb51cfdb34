using NotebookLens.Runtime;

namespace NotebookLens.Notebooks.Tests;

/// <summary>The embedded model the notebooks run on, loaded once in the test process for the checks' own computations.</summary>
public static class TinyModel
{
    static readonly Lazy<LensModel> Loaded = new(() =>
    {
        TorchRuntime.EnsureLoaded();
        return LensModel.Load("tiny");
    });

    public static LensModel Lens => Loaded.Value;
}
