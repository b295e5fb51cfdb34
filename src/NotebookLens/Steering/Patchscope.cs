using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
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
    /// <summary>
    /// The prompt to patch into; null: the model's own (<see cref="TextModel.Defaults"/>, which the embedded models name in
    /// their curriculum's format), else <see cref="PatchscopeTarget.Identity"/>.
    /// </summary>
    public PatchscopeTarget? Target { get; init; }

    /// <summary>Layer of the target to patch into; null: the model's own target's layer when <see cref="Target"/> is null and it names one, else the source layer.</summary>
    public int? TargetLayer { get; init; }

    public int MaxNewTokens { get; init; } = 10;
}

/// <summary>The greedy continuation of the target with the source's layer-<paramref name="SourceLayer"/> representation patched in.</summary>
public sealed record PatchscopeResult(int SourceLayer, int TargetLayer, IReadOnlyList<int> NewIds, string Text);

/// <summary>The prompts, the resolved positions (token indices into them), the target's placeholder and one result per source layer.</summary>
/// <param name="Placeholder">The text of <paramref name="Target"/> that marks where the representation went.</param>
public sealed record PatchscopeSweep(ModelRef Model, Prompt Source, int SourcePosition, Prompt Target, string Placeholder, int TargetPosition, IReadOnlyList<PatchscopeResult> Results);

/// <summary>
/// Patchscopes (Ghandeharioun et al. 2024): the residual stream of a source prompt at a layer and position —
/// <c>blocks.{l}.hook_resid_pre</c>, HF <c>hidden_states[l]</c> — replaces the target prompt's at the placeholder (at the
/// target layer, by default the same), and the model's greedy continuation says what the representation encodes.
/// The patch applies to the prompt only; generated tokens run unpatched.
/// </summary>
public static class Patchscope
{
    /// <summary>One source layer.</summary>
    public static PatchscopeResult Run(TextModel model, PatchscopeSource source, int layer, PatchscopeOptions? options = null, CancellationToken cancel = default) =>
        Sweep(model, source, [layer], options, cancel: cancel).Results[0];

    /// <summary>One continuation per source layer, in the order given.</summary>
    /// <param name="progress">Told as each layer's continuation is done.</param>
    /// <param name="cancel">Stops after the current layer with <see cref="OperationCanceledException"/>.</param>
    public static PatchscopeSweep Sweep(TextModel model, PatchscopeSource source, IEnumerable<int> layers, PatchscopeOptions? options = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default)
    {
        options ??= new PatchscopeOptions();
        var (target, fixedTargetLayer) = Resolve(model, options);
        var layerList = layers.ToList();
        if (layerList.Count == 0) throw new LensException(LensErrorKind.OutOfRange, "Give at least one layer.", setting: "layers");
        foreach (var l in fixedTargetLayer is int fixedLayer ? layerList.Append(fixedLayer) : layerList) Ranges.Check(l, model.Config.NumLayers, "layer");
        if (options.MaxNewTokens < 1) throw new LensException(LensErrorKind.OutOfRange, "MaxNewTokens must be at least 1.", setting: "MaxNewTokens");

        var sourcePrompt = model.Prompt(source.Prompt);
        int sourcePosition = source.Token is { } text ? Locate(sourcePrompt, text, "source prompt") : sourcePrompt.Position(source.Index);
        var targetPrompt = model.Prompt(target.Prompt);
        int targetPosition = Locate(targetPrompt, target.Placeholder, "target prompt");

        using var scope = NewDisposeScope();
        var (_, cache) = model.RunWithCache(sourcePrompt, CacheOptions.Of(layerList.Select(HookPoints.ResidPre).Distinct().ToArray()), new() { LastPositionLogitsOnly = true });
        var counter = new ProgressCounter(progress, "patchscope", layerList.Count, "layers").Start();
        var results = new List<PatchscopeResult>();
        foreach (var layer in layerList)
        {
            cancel.ThrowIfCancellationRequested();
            int targetLayer = fixedTargetLayer ?? layer;
            var patch = Interventions.Patch(HookPoints.ResidPre(targetLayer), cache[HookPoints.ResidPre(layer)][0, sourcePosition], [targetPosition]);
            var generated = model.Generate(targetPrompt, new GenerationOptions { MaxNewTokens = options.MaxNewTokens, Hooks = patch }, cancel);
            cancel.ThrowIfCancellationRequested();
            results.Add(new PatchscopeResult(layer, targetLayer, generated.NewIds, generated.Text));
            counter.Step($"layer {layer}");
        }
        return new PatchscopeSweep(model.Ref, sourcePrompt, sourcePosition, targetPrompt, target.Placeholder, targetPosition, results);
    }

    /// <summary>
    /// The target and the fixed target layer (null: each source layer's own) that <paramref name="options"/> leave to
    /// the defaults: the model's own target with its layer, else the identity prompt.
    /// </summary>
    internal static (PatchscopeTarget Target, int? TargetLayer) Resolve(TextModel model, PatchscopeOptions options) =>
        options.Target is { } given ? (given, options.TargetLayer)
        : model.Defaults.Patchscope is { } own ? (new PatchscopeTarget(own.Prompt, own.Placeholder), options.TargetLayer ?? own.TargetLayer)
        : (PatchscopeTarget.Identity, options.TargetLayer);

    /// <summary>The last token of the last occurrence of <paramref name="text"/>; an error says which prompt lacks it.</summary>
    static int Locate(Prompt prompt, string text, string which)
    {
        try
        {
            return prompt.Locate(text, -1);
        }
        catch (LensException e)
        {
            throw new LensException(e.Kind, $"The {which}: {e.Problem}", e.Remedy, e.Setting, e);
        }
    }
}
