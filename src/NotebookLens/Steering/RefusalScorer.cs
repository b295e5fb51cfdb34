using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// Scores candidate refusal directions on validation prompts as the reference <c>select_direction</c> does:
/// (a) the refusal score of harmful prompts with the direction ablated everywhere, (b) the refusal score of harmless
/// prompts with the raw vector added at its layer (all positions), (c) the KL divergence of harmless next-token
/// distributions under ablation against no intervention. All at the last position, in float64.
/// Each pass checks its cancellation token before every batch and stops with <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class RefusalScorer : IDisposable
{
    readonly LanguageModel _model;
    readonly IReadOnlyList<IReadOnlyList<int>> _harmful;
    readonly IReadOnlyList<IReadOnlyList<int>> _harmless;
    readonly Tensor _refusalIds;
    readonly int _batchSize;
    // Untouched harmless next-token distributions P, and Σ P log P per row: KL(P ‖ Q) = Σ P log P − Σ P log Q.
    readonly Tensor _harmlessProbs;
    readonly Tensor _harmlessNegEntropy;

    /// <param name="refusalTokenIds">Tokens that start a refusal (e.g. "I"); see <see cref="TokenIds"/>.</param>
    /// <param name="cancel">Stops the baseline passes.</param>
    public RefusalScorer(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> harmful, IReadOnlyList<IReadOnlyList<int>> harmless, IReadOnlyList<int> refusalTokenIds, int batchSize = 16,
        CancellationToken cancel = default)
    {
        if (harmful.Count == 0 || harmless.Count == 0) throw new ArgumentException("Both validation sets need at least one prompt.");
        if (refusalTokenIds.Count == 0) throw new ArgumentException("At least one refusal token is needed.", nameof(refusalTokenIds));
        _model = model;
        _harmful = harmful;
        _harmless = harmless;
        _batchSize = batchSize;
        _refusalIds = tensor(refusalTokenIds.Select(i => (long)i).ToArray(), device: model.Device).DetachFromDisposeScope();
        BaselineHarmful = MeanRefusalScore(harmful, null, cancel);
        using var scope = NewDisposeScope();
        var logP = LastLogProbs(harmless, null, cancel);
        _harmlessProbs = logP.exp().DetachFromDisposeScope();
        _harmlessNegEntropy = (_harmlessProbs * logP).sum(dim: 1).DetachFromDisposeScope();
        BaselineHarmless = RefusalScores(logP, _refusalIds).mean().item<double>();
    }

    /// <summary>Mean refusal score of the harmful prompts without intervention.</summary>
    public double BaselineHarmful { get; }

    /// <summary>Mean refusal score of the harmless prompts without intervention.</summary>
    public double BaselineHarmless { get; }

    /// <summary>Scores the candidate <paramref name="direction"/> [D] (un-normalised) taken at <paramref name="position"/> and <paramref name="layer"/>.</summary>
    public CandidateScore Score(int position, int layer, Tensor direction, CancellationToken cancel = default)
    {
        double norm;
        using (var _ = NewDisposeScope()) norm = direction.to(ScalarType.Float64).norm().item<double>();
        // A zero vector changes nothing (and has no unit direction): the scores are the baselines.
        if (norm == 0) return new CandidateScore(position, layer, 0, BaselineHarmful, BaselineHarmless, 0);
        var ablation = Interventions.AblateDirection(direction, _model.Config);
        double refusal = MeanRefusalScore(_harmful, ablation, cancel);
        double steering = MeanRefusalScore(_harmless, Interventions.AddVector(direction, [layer]), cancel);
        using var scope = NewDisposeScope();
        double kl = (_harmlessNegEntropy - (_harmlessProbs * LastLogProbs(_harmless, ablation, cancel)).sum(dim: 1)).mean().item<double>();
        return new CandidateScore(position, layer, norm, refusal, steering, kl);
    }

    double MeanRefusalScore(IReadOnlyList<IReadOnlyList<int>> prompts, HookSet? hooks, CancellationToken cancel)
    {
        using var scope = NewDisposeScope();
        return RefusalScores(LastLogProbs(prompts, hooks, cancel), _refusalIds).mean().item<double>();
    }

    /// <summary>Float64 log-probabilities <c>[N, V]</c> of the next token after each prompt.</summary>
    Tensor LastLogProbs(IReadOnlyList<IReadOnlyList<int>> prompts, HookSet? hooks, CancellationToken cancel)
    {
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>();
        PromptBatch.Run(_model, prompts, _batchSize, hooks, (_, logits) => rows.Add(logits.to(ScalarType.Float64).log_softmax(-1).MoveToOuterDisposeScope()), cancel);
        return cat(rows, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Refusal score per row: log-odds of the probability mass p of the refusal tokens, <c>log(p + ε) − log(1 − p + ε)</c>
    /// with ε = 1e-8 as the reference. <paramref name="logProbs"/> are float64 log-probabilities <c>[N, V]</c>.
    /// </summary>
    public static Tensor RefusalScores(Tensor logProbs, Tensor refusalIds)
    {
        const double eps = 1e-8;
        var p = logProbs.index_select(1, refusalIds).exp().sum(dim: 1);
        return (p + eps).log() - (1 - p + eps).log();
    }

    /// <summary>
    /// The ids of refusal-start tokens given as text (e.g. "I"); each must be exactly one token of this tokenizer.
    /// </summary>
    public static IReadOnlyList<int> TokenIds(HfTokenizer tokenizer, IEnumerable<string> tokens) => tokens.Select(text =>
    {
        var ids = tokenizer.Encode(text, addSpecialTokens: false);
        return ids.Count == 1 ? ids[0]
            : throw new ArgumentException($"The refusal token \"{text}\" is {ids.Count} tokens for this tokenizer ({string.Join(", ", ids.Select(tokenizer.DisplayText).Select(t => $"\"{t}\""))}); give single tokens, e.g. \"I\".");
    }).Distinct().ToList();

    public void Dispose()
    {
        _refusalIds.Dispose();
        _harmlessProbs.Dispose();
        _harmlessNegEntropy.Dispose();
    }
}
