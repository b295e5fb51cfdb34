using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;

namespace NotebookLens;

/// <summary>
/// The models of one session (a notebook kernel, a CLI run), by name: each source/dtype/device loaded once, several
/// side by side, one current. With nothing loaded, the current model is the embedded <c>tiny</c>, loaded on first use.
/// Thread-safe.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    readonly object _gate = new();
    readonly List<(LensModel Model, string Key)> _models = [];
    string? _current;

    /// <summary>The process's registry (what the notebook layer uses).</summary>
    public static ModelRegistry Shared { get; } = new();

    public IReadOnlyList<LensModel> Models
    {
        get { lock (_gate) return _models.Select(m => m.Model).ToList(); }
    }

    /// <summary>Name of the current model, or null when nothing is loaded.</summary>
    public string? Current
    {
        get { lock (_gate) return _current; }
    }

    /// <summary>
    /// Loads <paramref name="source"/> (folder, hub id or "tiny") under <paramref name="name"/> and makes it current. The
    /// same source with the same dtype and device is loaded once: asking again returns the loaded model.
    /// </summary>
    public LensModel Load(string source, string? name = null, LoadOptions? options = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default) =>
        Task.Run(() => LoadAsync(source, name, options, progress, cancel), cancel).GetAwaiter().GetResult();

    /// <inheritdoc cref="Load"/>
    public async Task<LensModel> LoadAsync(string source, string? name = null, LoadOptions? options = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default)
    {
        options ??= LoadOptions.Default;
        name ??= LensModel.DefaultName(source);
        // The device first: one this process cannot use is the problem to report, whatever else is loaded.
        var device = ComputeDevice.Resolve(options.Device);
        var key = $"{source}|{(options.DType is { } d ? DTypes.Name(d) : "stored")}|{device}";
        lock (_gate)
        {
            var same = _models.FirstOrDefault(m => m.Key == key).Model;
            if (same is not null)
            {
                _current = same.Name;
                return same;
            }
            if (_models.Any(m => m.Model.Name == name))
                throw new LensException(LensErrorKind.Unsupported, $"A model named \"{name}\" is already loaded ({Find(name)!.Source}).",
                    "Unload it first, or load this one under another name.", "name");
        }
        var model = await LensModel.LoadAsync(source, options, name, progress, cancel).ConfigureAwait(false);
        lock (_gate)
        {
            if (_models.Any(m => m.Model.Name == name))
            {
                model.Dispose();
                throw new LensException(LensErrorKind.Unsupported, $"A model named \"{name}\" was loaded meanwhile.", "Load this one under another name.", "name");
            }
            _models.Add((model, key));
            _current = name;
        }
        return model;
    }

    /// <summary>The model of that name; null: the current one (with nothing loaded, <c>tiny</c>, loaded now).</summary>
    public LensModel Get(string? name = null)
    {
        lock (_gate)
        {
            if (name is null && _current is not null) return Find(_current)!;
            if (name is not null)
                return Find(name) ?? throw new LensException(LensErrorKind.NotFound,
                    $"No model named \"{name}\" is loaded{(_models.Count == 0 ? "" : $" (loaded: {string.Join(", ", _models.Select(m => m.Model.Name))})")}.",
                    "Load it first, or pick a loaded one.", "model");
        }
        return Load(EmbeddedModel.Tiny.Name);
    }

    /// <summary>Makes a loaded model the current one.</summary>
    public void Use(string name)
    {
        lock (_gate) _current = (Find(name) ?? Get(name)).Name;
    }

    /// <summary>Frees a model; the current model becomes the most recently loaded of the others. False if none had that name.</summary>
    public bool Unload(string name)
    {
        LensModel? model;
        lock (_gate)
        {
            int i = _models.FindIndex(m => m.Model.Name == name);
            if (i < 0) return false;
            model = _models[i].Model;
            _models.RemoveAt(i);
            if (_current == name) _current = _models.Count > 0 ? _models[^1].Model.Name : null;
        }
        model.Dispose();
        return true;
    }

    /// <summary>The model of that name; an embedded model's name also finds it under its variable name ("tiny-gemma": tiny_gemma).</summary>
    LensModel? Find(string name)
    {
        var alias = EmbeddedModel.Find(name) is { } embedded ? LensModel.DefaultName(embedded.Name) : name;
        return _models.FirstOrDefault(m => m.Model.Name == name).Model ?? _models.FirstOrDefault(m => m.Model.Name == alias).Model;
    }

    public void Dispose()
    {
        List<LensModel> all;
        lock (_gate)
        {
            all = _models.Select(m => m.Model).ToList();
            _models.Clear();
            _current = null;
        }
        foreach (var m in all) m.Dispose();
    }
}
