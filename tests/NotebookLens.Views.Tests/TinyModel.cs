using NotebookLens.Runtime;

namespace NotebookLens.Views.Tests;

/// <summary>The embedded model <c>tiny</c>, loaded once for every test that needs real results.</summary>
public sealed class TinyModel : IDisposable
{
    public TinyModel()
    {
        TorchRuntime.EnsureLoaded();
        Lens = LensModel.Load("tiny");
    }

    public LensModel Lens { get; }

    public void Dispose() => Lens.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TinyCollection : ICollectionFixture<TinyModel>
{
    public const string Name = "tiny";
}
