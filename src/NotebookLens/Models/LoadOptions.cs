using NotebookLens.Loading;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>How to load a model: compute dtype (null keeps the stored dtype), device, and for a hub id the cache and a download's progress.</summary>
public sealed record LoadOptions
{
    /// <summary>Weights and compute in this dtype; null keeps the checkpoint's dtype (memory-mapped, no copy).</summary>
    public ScalarType? DType { get; init; }

    /// <summary><c>cpu</c> (default) or <c>cuda</c>, <c>cuda:1</c>, ...</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>For a hub id: the cache and hub settings; null reads them from the environment (<see cref="HubOptions.FromEnvironment()"/>).</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>For a hub id that is not in the cache yet: told how the download goes.</summary>
    public IProgress<DownloadProgress>? DownloadProgress { get; init; }

    public static LoadOptions Default { get; } = new();
}
