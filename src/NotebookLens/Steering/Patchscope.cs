using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>Where the representation to read is: the last token of the last occurrence of <see cref="Token"/> in the prompt, or token <see cref="Index"/>.</summary>
/// <param name="Prompt">Encoded as <c>tokenizer(prompt)</c> (BOS added where the tokenizer adds it).</param>
public sealed record PatchscopeSource(string Prompt)
{
    /// <summary>Text whose last token is read, e.g. "Apple"; null: use <see cref="Index"/>.</summary>
    public string? Token { get; init; }

    /// <summary>Token index when <see cref="Token"/> is null; negative counts from the end (-1, the default: the last token).</summary>
    public int Index { get; init; } = -1;
}

/// <summary>The prompt a representation is patched into, at the last token of the last occurrence of <paramref name="Placeholder"/>.</summary>
public sealed record PatchscopeTarget(string Prompt, string Placeholder)
{
    /// <summary>Few-shot identity prompt of Ghandeharioun et al. 2024: the model continues by restating what is at <c>?</c>.</summary>
    public static PatchscopeTarget Identity { get; } = new("cat -> cat; 1135 -> 1135; hello -> hello; ? ->", "?");
}

/// <summary>What to generate and where to patch.</summary>
public sealed record PatchscopeOptions
{
    public PatchscopeTarget Target { get; init; } = PatchscopeTarget.Identity;

    /// <summary>Layer of the target to patch into; null: the source layer.</summary>
    public int? TargetLayer { get; init; }

    public int MaxNewTokens { get; init; } = 10;
}

/// <summary>The greedy continuation of the target with the source's layer-<paramref name="SourceLayer"/> representation patched in.</summary>
public sealed record PatchscopeResult(int SourceLayer, int TargetLayer, IReadOnlyList<int> NewIds, string Text);

/// <summary>The resolved positions (token indices into the encoded prompts) and one result per source layer.</summary>
public sealed record PatchscopeSweep(IReadOnlyList<int> SourceIds, int SourcePosition, IReadOnlyList<int> TargetIds, int TargetPosition, IReadOnlyList<PatchscopeResult> Results);

/// <summary>
/// Patchscopes (Ghandeharioun et al. 2024): the residual stream of a source prompt at a layer and position —
/// <c>blocks.{l}.hook_resid_pre</c>, HF <c>hidden_states[l]</c> — replaces the target prompt's at the placeholder (at the
/// target layer, by default the same), and the model's greedy continuation says what the representation encodes.
/// The patch applies to the prompt only; generated tokens run unpatched.
/// </summary>
public static class Patchscope
{
    /// <summary>One source layer.</summary>
    public static PatchscopeResult Run(LensModel model, PatchscopeSource source, int layer, PatchscopeOptions? options = null) =>
        Sweep(model, source, [layer], options).Results[0];

    /// <summary>One continuation per source layer, in the order given.</summary>
    public static PatchscopeSweep Sweep(LensModel model, PatchscopeSource source, IEnumerable<int> layers, PatchscopeOptions? options = null)
    {
        options ??= new PatchscopeOptions();
        var layerList = layers.ToList();
        if (layerList.Count == 0) throw new ArgumentException("Give at least one layer.", nameof(layers));
        foreach (var l in options.TargetLayer is int target ? layerList.Append(target) : layerList) CheckLayer(l, model.Config.NumLayers);
        if (options.MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxNewTokens must be at least 1.");

        var sourceTokens = model.Tokenizer.Tokenize(source.Prompt);
        int sourcePosition = source.Token is { } text ? Locate(sourceTokens, source.Prompt, text, "source prompt") : Resolve(source.Index, sourceTokens.Count);
        var targetTokens = model.Tokenizer.Tokenize(options.Target.Prompt);
        int targetPosition = Locate(targetTokens, options.Target.Prompt, options.Target.Placeholder, "target prompt");
        var sourceIds = sourceTokens.Select(t => t.Id).ToList();
        var targetIds = targetTokens.Select(t => t.Id).ToList();

        using var scope = NewDisposeScope();
        var (run, cache) = model.Model.RunWithCache(tensor(sourceIds.Select(i => (long)i).ToArray()),
            CacheOptions.Of(layerList.Select(HookPoints.ResidPre).Distinct().ToArray()), new() { LastPositionLogitsOnly = true });
        using (run)
        using (cache)
        {
            var stop = model.Model.StopTokenIds.Concat(model.Tokenizer.EosIds).ToHashSet();
            var results = layerList.Select(layer =>
            {
                int targetLayer = options.TargetLayer ?? layer;
                var patch = Interventions.Patch(HookPoints.ResidPre(targetLayer), cache[HookPoints.ResidPre(layer)][0, sourcePosition], [targetPosition]);
                var generated = model.Model.Generate(targetIds, new GenerationOptions { MaxNewTokens = options.MaxNewTokens, Hooks = patch, StopTokens = stop });
                return new PatchscopeResult(layer, targetLayer, generated.NewIds, model.Tokenizer.Decode(generated.NewIds, skipSpecialTokens: true));
            }).ToList();
            return new PatchscopeSweep(sourceIds, sourcePosition, targetIds, targetPosition, results);
        }
    }

    static void CheckLayer(int layer, int numLayers)
    {
        LayerRange.Check(layer, numLayers);
    }

    static int Resolve(int index, int count)
    {
        int position = index < 0 ? count + index : index;
        return position >= 0 && position < count ? position
            : throw new ArgumentOutOfRangeException(nameof(index), $"Token index {index} is outside the source prompt's {count} tokens (use 0 .. {count - 1}, or -1 .. -{count} from the end).");
    }

    /// <summary>Index of the token holding the last character of the last occurrence of <paramref name="text"/>.</summary>
    static int Locate(IReadOnlyList<TextToken> tokens, string prompt, string text, string what)
    {
        int at = text.Length == 0 ? -1 : prompt.LastIndexOf(text, StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException($"The {what} has no \"{text}\": \"{prompt}\".");
        int last = at + text.Length - 1;
        for (int i = tokens.Count - 1; i >= 0; i--)
            if (tokens[i].Offsets.Start.Value <= last && last < tokens[i].Offsets.End.Value) return i;
        throw new ArgumentException($"No token of the {what} covers \"{text}\" (it is inside a special token?).");
    }
}
