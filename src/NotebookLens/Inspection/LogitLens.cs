using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>How to read the residual stream through the unembedding.</summary>
public sealed record LogitLensOptions
{
    public int TopK { get; init; } = 5;
    /// <summary>
    /// Apply the model's final RMSNorm to each layer's own vector before the LM head (recomputed per vector,
    /// not reusing the last layer's scale). Off reads the raw stream, as the lecture's code does.
    /// </summary>
    public bool ApplyFinalNorm { get; init; } = true;
    /// <summary>Only the last position (what the model is about to say).</summary>
    public bool LastPositionOnly { get; init; }
    /// <summary>Tokens whose rank and probability to follow across layers (vocabulary strings or words).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];
}

/// <summary>A token the lens predicts at one layer and position.</summary>
public sealed record LensPrediction(int Id, string Text, double Probability, double Logit);

/// <summary>A target's rank (1 = top) and probability at one layer and position.</summary>
public sealed record LensTarget(int Rank, double Probability);

/// <summary>
/// The logit lens: what the model would predict if each layer's residual stream were the last. Row 0 is the
/// embedding output (<c>hook_embed</c>), row l + 1 the output of block l (<c>blocks.{l}.hook_resid_post</c>,
/// raw, before the final norm), so the last row with the final norm is the model's own prediction. Columns are
/// the prompt's tokens at <see cref="Positions"/> (all of them, or only the last).
/// </summary>
/// <param name="Top">[row][column][k]: the top-k next tokens.</param>
/// <param name="Targets">Per target token: [row][column] its rank and probability.</param>
public sealed record LogitLensResult(
    ModelRef Model,
    Prompt Prompt,
    IReadOnlyList<string> LayerLabels,
    IReadOnlyList<int> Positions,
    LensPrediction[][][] Top,
    IReadOnlyDictionary<string, LensTarget[][]> Targets,
    bool FinalNormApplied)
{
    /// <summary>Readable text of the token at each column.</summary>
    public IReadOnlyList<string> PositionLabels => Positions.Select(p => Prompt.Tokens[p].Text).ToList();
}

public static class LogitLens
{
    public static LogitLensResult Run(TextModel lens, Prompt prompt, LogitLensOptions? options = null)
    {
        options ??= new LogitLensOptions();
        if (options.TopK <= 0) throw new LensException(LensErrorKind.OutOfRange, "TopK must be positive.", setting: "TopK");
        var model = lens.Model;
        int layers = model.Config.NumLayers;
        var names = new[] { HookPoints.Embed }.Concat(Enumerable.Range(0, layers).Select(HookPoints.ResidPost)).ToList();
        var targetIds = options.Targets.ToDictionary(t => t, lens.TokenId);
        using var scope = NewDisposeScope();
        var (_, cache) = lens.RunWithCache(prompt, new CacheOptions { Filter = names.Contains, LastPositionOnly = options.LastPositionOnly });
        int[] positions = options.LastPositionOnly ? [prompt.Count - 1] : Enumerable.Range(0, prompt.Count).ToArray();
        var top = new LensPrediction[names.Count][][];
        var targets = targetIds.ToDictionary(t => t.Key, _ => new LensTarget[names.Count][]);
        for (int row = 0; row < names.Count; row++)
        {
            using var layerScope = NewDisposeScope();
            var logits = model.Unembed(cache[names[row]][0], options.ApplyFinalNorm).to(ScalarType.Float32);
            var probs = logits.softmax(-1);
            var (values, indices) = probs.topk(options.TopK);
            var idArray = indices.ToHostArray<long>();
            var probArray = values.ToHostArray<float>();
            var logitArray = logits.gather(1, indices).ToHostArray<float>();
            top[row] = Enumerable.Range(0, positions.Length).Select(p => Enumerable.Range(0, options.TopK).Select(k =>
            {
                int i = p * options.TopK + k;
                return new LensPrediction((int)idArray[i], lens.TokenText((int)idArray[i]), probArray[i], logitArray[i]);
            }).ToArray()).ToArray();
            foreach (var (name, id) in targetIds)
            {
                var targetLogit = logits[.., id].unsqueeze(1);
                var ranks = (logits > targetLogit).sum(1).ToHostArray<long>();
                var targetProbs = probs[.., id].ToHostArray<float>();
                targets[name][row] = ranks.Select((r, p) => new LensTarget((int)r + 1, targetProbs[p])).ToArray();
            }
        }
        var layerLabels = new[] { "embed" }.Concat(Enumerable.Range(0, layers).Select(l => l.ToString())).ToList();
        return new LogitLensResult(lens.Ref, prompt, layerLabels, positions, top, targets.ToDictionary(t => t.Key, t => t.Value), options.ApplyFinalNorm);
    }
}
