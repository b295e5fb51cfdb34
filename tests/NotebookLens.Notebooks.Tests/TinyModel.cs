using NotebookLens.Runtime;

namespace NotebookLens.Notebooks.Tests;

/// <summary>The embedded models the notebooks run on, each loaded once in the test process for the checks' own computations.</summary>
public static class TinyModel
{
    static readonly Lazy<LensModel> Loaded = new(() => Load("tiny"));

    static readonly Lazy<LensModel> LoadedGemma = new(() => Load("tiny-gemma"));

    static LensModel Load(string name)
    {
        TorchRuntime.EnsureLoaded();
        return LensModel.Load(name);
    }

    /// <summary><c>tiny</c>, the notebooks' <c>llama</c>.</summary>
    public static LensModel Lens => Loaded.Value;

    /// <summary><c>tiny-gemma</c>, the notebooks' <c>gemma</c>.</summary>
    public static LensModel Gemma => LoadedGemma.Value;
}
