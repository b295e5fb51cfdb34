using NotebookLens.Loading;
using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Interactive;

/// <summary>A model loaded in this notebook session, under the name its C# variable has.</summary>
public sealed record LoadedModel(string Name, string Source, LensModel Model);

/// <summary>
/// The seam between the directive and the core's model handling: the models of one kernel session, the current one,
/// and loading with cancellation. It stands in for the core's coming <c>ModelRegistry</c> (see the façade notes),
/// which will replace this class's body with a few calls.
/// </summary>
sealed class ModelSession : IDisposable
{
    readonly Dictionary<string, LoadedModel> _models = new(StringComparer.Ordinal);
    readonly Lock _gate = new();

    /// <summary>Name of the model that commands without <c>--model</c> use; null before any load.</summary>
    public string? Current { get; private set; }

    public IReadOnlyList<LoadedModel> Models
    {
        // A List, not a collection expression: its runtime type must be one a C# variable can be declared with (--as).
        get { lock (_gate) return _models.Values.ToList(); }
    }

    /// <summary>
    /// Loads a folder, a hub id or <c>tiny</c> and makes it current. A cancelled load returns at once; weights still
    /// being read are disposed when they arrive (the core's load has no cancellation point yet).
    /// </summary>
    public async Task<LoadedModel> LoadAsync(string source, string? name, ScalarType? dtype, string device,
        IProgress<DownloadProgress>? progress, CancellationToken cancel)
    {
        var modelName = name ?? CSharpNames.FromSource(source);
        CSharpNames.Check(modelName, "a model name", "--name llama");
        var folder = await ModelLocator.ResolveAsync(source, ModelParts.All, progress: progress, cancel: cancel);
        var options = new LoadOptions { DType = dtype, Device = device };
        var loading = Task.Run(() => LensModel.Load(folder, options), CancellationToken.None);
        try
        {
            await loading.WaitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            _ = loading.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw;
        }
        var loaded = new LoadedModel(modelName, source, loading.Result);
        LoadedModel? replaced;
        lock (_gate)
        {
            _models.Remove(modelName, out replaced);
            _models[modelName] = loaded;
            Current = modelName;
        }
        replaced?.Model.Dispose();
        return loaded;
    }

    /// <summary>The named model, else the current one; null when no name is given and nothing is loaded.</summary>
    public LoadedModel? Get(string? name)
    {
        lock (_gate)
        {
            if (name is not null)
                return _models.TryGetValue(name, out var named) ? named : throw NotLoaded(name);
            return Current is null ? null : _models[Current];
        }
    }

    public LoadedModel Use(string name)
    {
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var model)) throw NotLoaded(name);
            Current = name;
            return model;
        }
    }

    public LoadedModel Unload(string name)
    {
        LoadedModel? model;
        lock (_gate)
        {
            if (!_models.Remove(name, out model)) throw NotLoaded(name);
            if (Current == name) Current = _models.Keys.FirstOrDefault();
        }
        model.Model.Dispose();
        return model;
    }

    MagicException NotLoaded(string name)
    {
        var loaded = Models.Select(m => m.Name).ToList();
        return new MagicException(
            $"No model named '{name}' is loaded.",
            loaded.Count == 0
                ? $"Load it first: #!model load FOLDER_OR_HUB_ID --name {name}"
                : $"Loaded: {string.Join(", ", loaded)}. Load it first: #!model load FOLDER_OR_HUB_ID --name {name}");
    }

    public void Dispose()
    {
        foreach (var model in Models) model.Model.Dispose();
        lock (_gate) _models.Clear();
    }
}
