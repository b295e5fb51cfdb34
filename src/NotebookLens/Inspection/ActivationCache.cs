using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>Which activations to keep from a run, and in what form.</summary>
public sealed record CacheOptions
{
    /// <summary>Keep the hook points this accepts; null keeps every one (fine on small models, not on 3B).</summary>
    public Func<string, bool>? Filter { get; init; }
    /// <summary>Keep only the last position (the query position for attention scores and patterns).</summary>
    public bool LastPositionOnly { get; init; }
    /// <summary>Convert kept activations to this dtype (e.g. float32 for analysis of a bf16 run); null keeps it.</summary>
    public ScalarType? DType { get; init; }
    /// <summary>Hooks that run before the capture, e.g. interventions whose effect should be recorded.</summary>
    public HookSet? Interventions { get; init; }

    public static CacheOptions Everything { get; } = new();

    /// <summary>Only these hook points.</summary>
    public static CacheOptions Of(params string[] names)
    {
        var set = names.ToHashSet(StringComparer.Ordinal);
        return new CacheOptions { Filter = set.Contains };
    }
}

/// <summary>
/// Activations captured from one forward pass, by hook point name. The cache owns them (detached
/// copies, outside any dispose scope) and frees them when disposed.
/// </summary>
public sealed class ActivationCache : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    public Tensor this[string key] => _tensors.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"The cache has no '{key}'. It holds {(_tensors.Count == 0 ? "nothing" : string.Join(", ", _tensors.Keys.Take(6)) + (_tensors.Count > 6 ? ", ..." : ""))}.");

    public IEnumerable<string> Keys => _tensors.Keys;
    public IEnumerable<Tensor> Values => _tensors.Values;
    public int Count => _tensors.Count;
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);
    public bool TryGetValue(string key, out Tensor value) => _tensors.TryGetValue(key, out value!);
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _tensors.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The hooks that fill this cache, handing what they keep to <paramref name="owner"/>; <paramref name="options"/> say what to keep.</summary>
    internal HookSet CaptureHooks(CacheOptions options, DisposeScope owner) => new HookSet().Add(options.Filter ?? (_ => true), (x, ctx) =>
    {
        using var scope = NewDisposeScope();
        var kept = x.detach();
        if (options.LastPositionOnly)
        {
            // Attention scores and patterns are [B, H, T, S]: their query axis is the third.
            int axis = HookPoints.IsAttentionMap(ctx.Name) ? 2 : 1;
            kept = kept.narrow(axis, kept.shape[axis] - 1, 1);
        }
        kept = options.DType is { } dtype ? kept.to(dtype) : kept;
        var owned = scope.MoveToOther(owner, kept.clone());
        if (_tensors.Remove(ctx.Name, out var old)) old.Dispose();
        _tensors[ctx.Name] = owned;
        return null;
    });

    /// <summary>Takes every tensor of the cache out of its dispose scope (see <see cref="Ownership"/>): it lives until disposed.</summary>
    public ActivationCache Keep()
    {
        foreach (var t in _tensors.Values) t.Keep();
        return this;
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}

public static class ActivationCacheExtensions
{
    /// <summary>
    /// Runs the model and captures the activations <paramref name="options"/> select
    /// (TransformerLens' <c>run_with_cache</c>). Both results' tensors belong to the caller's dispose scope (<see cref="Ownership"/>).
    /// </summary>
    public static (ForwardResult Result, ActivationCache Cache) RunWithCache(this LanguageModel model, Tensor inputIds, CacheOptions? options = null, ForwardOptions? forward = null)
    {
        options ??= CacheOptions.Everything;
        using var scope = NewDisposeScope();
        var cache = new ActivationCache();
        var hooks = (options.Interventions ?? HookSet.Empty).Then(cache.CaptureHooks(options, scope));
        var baseHooks = forward?.Hooks ?? HookSet.Empty;
        var result = model.Forward(inputIds, (forward ?? ForwardOptions.Default) with { Hooks = baseHooks.Then(hooks) });
        scope.HandOut(result.Tensors.Concat(cache.Values));
        return (result, cache);
    }

    /// <inheritdoc cref="RunWithCache(LanguageModel, Tensor, CacheOptions?, ForwardOptions?)"/>
    public static (ForwardResult Result, ActivationCache Cache) RunWithCache(this TextModel model, Prompt prompt, CacheOptions? options = null, ForwardOptions? forward = null)
    {
        using var scope = NewDisposeScope();
        var (result, cache) = model.Model.RunWithCache(prompt.ToTensor(), options, forward);
        scope.HandOut(result.Tensors.Concat(cache.Values));
        return (result, cache);
    }

    /// <summary>Runs a prompt (batch of one) and returns what <paramref name="options"/> ask for, in the caller's dispose scope.</summary>
    public static ForwardResult Forward(this TextModel model, Prompt prompt, ForwardOptions? options = null)
    {
        using var scope = NewDisposeScope();
        var result = model.Model.Forward(prompt.ToTensor(), options);
        scope.HandOut(result.Tensors);
        return result;
    }
}
