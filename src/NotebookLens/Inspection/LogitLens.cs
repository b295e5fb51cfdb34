using NotebookLens.Models;
using NotebookLens.Runtime;
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
/// raw, before the final norm), so the last row with the final norm is the model's own prediction. Positions
/// are the input tokens (or only the last).
/// </summary>
public sealed record LogitLensResult(
    IReadOnlyList<string> LayerLabels,
    IReadOnlyList<string> PositionLabels,
    LensPrediction[][][] Top,
    IReadOnlyDictionary<string, LensTarget[][]> Targets,
    bool FinalNormApplied);

public static class LogitLens
{
    public static LogitLensResult Run(LensModel lens, long[] ids, LogitLensOptions? options = null)
    {
        options ??= new LogitLensOptions();
        if (options.TopK <= 0) throw new ArgumentOutOfRangeException(nameof(options), "TopK must be positive.");
        var model = lens.Model;
        int layers = model.Config.NumLayers;
        var names = new[] { HookPoints.Embed }.Concat(Enumerable.Range(0, layers).Select(HookPoints.ResidPost)).ToList();
        var targetIds = options.Targets.ToDictionary(t => t, t => TargetId(lens, t));
        using var scope = NewDisposeScope();
        var (run, cache) = model.RunWithCache(tensor(ids), new CacheOptions { Filter = names.Contains, LastPositionOnly = options.LastPositionOnly });
        using (run)
        using (cache)
        {
            var positions = options.LastPositionOnly ? [ids[^1]] : ids;
            var top = new LensPrediction[names.Count][][];
            var targets = targetIds.ToDictionary(t => t.Key, _ => new LensTarget[names.Count][]);
            for (int row = 0; row < names.Count; row++)
            {
                using var layerScope = NewDisposeScope();
                var stream = cache[names[row]][0];
                var normed = options.ApplyFinalNorm ? model.FinalNorm.Forward(stream) : stream;
                var logits = nn.functional.linear(normed, model.LmHead).to(ScalarType.Float32);
                if (model.Config.FinalLogitSoftcapping is double cap) logits = (logits / Scalars.Of(cap)).tanh() * Scalars.Of(cap);
                var probs = logits.softmax(-1);
                var (values, indices) = probs.topk(options.TopK);
                var idArray = indices.data<long>().ToArray();
                var probArray = values.data<float>().ToArray();
                var logitArray = logits.gather(1, indices).data<float>().ToArray();
                top[row] = Enumerable.Range(0, positions.Length).Select(p => Enumerable.Range(0, options.TopK).Select(k =>
                {
                    int i = p * options.TopK + k;
                    return new LensPrediction((int)idArray[i], lens.Tokenizer.DisplayText((int)idArray[i]), probArray[i], logitArray[i]);
                }).ToArray()).ToArray();
                foreach (var (name, id) in targetIds)
                {
                    var targetLogit = logits[.., id].unsqueeze(1);
                    var ranks = (logits > targetLogit).sum(1).data<long>().ToArray();
                    var targetProbs = probs[.., id].data<float>().ToArray();
                    targets[name][row] = ranks.Select((r, p) => new LensTarget((int)r + 1, targetProbs[p])).ToArray();
                }
            }
            var layerLabels = new[] { "embed" }.Concat(Enumerable.Range(0, layers).Select(l => l.ToString())).ToList();
            return new LogitLensResult(layerLabels, lens.Labels(positions), top, targets.ToDictionary(t => t.Key, t => t.Value), options.ApplyFinalNorm);
        }
    }

    /// <summary>A target given as a vocabulary string, or a word whose first token is taken.</summary>
    internal static int TargetId(LensModel lens, string target)
    {
        if (lens.Tokenizer.TokenToId(target) is int id) return id;
        var ids = lens.Tokenizer.Encode(target, addSpecialTokens: false);
        return ids.Count > 0 ? ids[0] : throw new ArgumentException($"Target '{target}' has no tokens.", nameof(target));
    }
}
