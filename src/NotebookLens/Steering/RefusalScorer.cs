using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// Scores candidate refusal directions on validation prompts as the reference <c>select_direction</c> does:
/// (a) the refusal score of harmful prompts with the direction ablated everywhere, (b) the refusal score of harmless
/// prompts with the raw vector added at its layer (all positions), (c) the KL divergence of harmless next-token
/// distributions under ablation against no intervention. All at the last position, in float64.
/// Each pass checks its cancellation token before every batch and stops with <see cref="OperationCanceledException"/>.
/// Every pass runs the prompts' shared prefix once (see PromptBatch). The untouched harmless pass keeps every block
/// input after that prefix (L × those tokens × D in the model's dtype; 28 MB for Llama-3.2-3B's 28 layers and 8 rests of
/// 20 tokens): adding a vector at layer l leaves blocks 0 .. l−1 of the rests as they were, so the steering pass runs
/// them from layer l only.
/// </summary>
public sealed class RefusalScorer : IDisposable
{
    readonly LanguageModel _model;
    readonly IReadOnlyList<IReadOnlyList<int>> _harmless;
    /// <summary>The harmful prompts (the first <see cref="_harmfulCount"/>), then the harmless ones: the ablation pass of <see cref="Score"/> runs them together.</summary>
    readonly IReadOnlyList<IReadOnlyList<int>> _both;
    readonly int _harmfulCount;
    readonly Tensor _refusalIds;
    readonly int _batchSize;
    // Untouched harmless next-token distributions P, and Σ P log P per row: KL(P ‖ Q) = Σ P log P − Σ P log Q.
    readonly Tensor _harmlessProbs;
    readonly Tensor _harmlessNegEntropy;
    // Per batch of harmless prompts, per layer: the untouched block input [b, T, D] of what follows their shared prefix.
    readonly List<Tensor[]> _harmlessResidPre = [];

    /// <param name="refusalTokenIds">Tokens that start a refusal (e.g. "I"); see <see cref="TokenIds"/>.</param>
    /// <param name="cancel">Stops the baseline passes.</param>
    /// <param name="progress">Told the validation prompts done in the baseline passes (stage <see cref="Stage"/>).</param>
    public RefusalScorer(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> harmful, IReadOnlyList<IReadOnlyList<int>> harmless, IReadOnlyList<int> refusalTokenIds, int batchSize = 16,
        CancellationToken cancel = default, IProgress<LensProgress>? progress = null)
    {
        if (harmful.Count == 0 || harmless.Count == 0) throw new ArgumentException("Both validation sets need at least one prompt.");
        if (refusalTokenIds.Count == 0) throw new ArgumentException("At least one refusal token is needed.", nameof(refusalTokenIds));
        _model = model;
        _harmfulCount = harmful.Count;
        _harmless = harmless;
        _both = [.. harmful, .. harmless];
        _batchSize = batchSize;
        var layerInputs = new Tensor[model.Config.NumLayers];
        try
        {
            _refusalIds = tensor(refusalTokenIds.Select(i => (long)i).ToArray(), device: model.Device).DetachFromDisposeScope();
            var counter = new ProgressCounter(progress, Stage, harmful.Count + harmless.Count, "prompts").Start();
            BaselineHarmful = MeanRefusalScore(harmful, null, cancel, counter);
            using var scope = NewDisposeScope();
            var blockInputs = Enumerable.Range(0, model.Config.NumLayers).Select(HookPoints.ResidPre).ToHashSet(StringComparer.Ordinal);
            var keepInputs = new HookSet().Add(blockInputs.Contains, (x, ctx) =>
            {
                layerInputs[ctx.Layer!.Value] = x.clone().DetachFromDisposeScope();
                return null;
            });
            var logP = LastLogProbs(harmless, null, cancel, counter, () =>
            {
                _harmlessResidPre.Add(layerInputs);
                layerInputs = new Tensor[model.Config.NumLayers];
            }, keepInputs);
            _harmlessProbs = logP.exp().DetachFromDisposeScope();
            _harmlessNegEntropy = (_harmlessProbs * logP).sum(dim: 1).DetachFromDisposeScope();
            BaselineHarmless = RefusalScores(logP, _refusalIds).mean().item<double>();
        }
        catch
        {
            // A cancelled or failed baseline pass leaves nothing behind: the caller never gets the scorer to dispose.
            foreach (var t in layerInputs) t?.Dispose();
            Dispose();
            throw;
        }
    }

    /// <summary>The progress stage of the baseline passes.</summary>
    public const string Stage = "baselines";

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
        double steering = SteeringScore(layer, direction, cancel);
        using var scope = NewDisposeScope();
        // Both sets in one pass with the direction ablated (the harmful rows first): twice the rows per batch, which
        // libtorch's GEMM runs faster (Llama-3.2-3B's up projection: 271 GF/s on 120 rows, 415 on 240), and the shared
        // prefix once instead of twice.
        var logP = LastLogProbs(_both, ablation, cancel);
        double refusal = RefusalScores(logP.narrow(0, 0, _harmfulCount), _refusalIds).mean().item<double>();
        double kl = (_harmlessNegEntropy - (_harmlessProbs * logP.narrow(0, _harmfulCount, _harmless.Count)).sum(dim: 1)).mean().item<double>();
        return new CandidateScore(position, layer, norm, refusal, steering, kl);
    }

    double MeanRefusalScore(IReadOnlyList<IReadOnlyList<int>> prompts, HookSet? hooks, CancellationToken cancel, ProgressCounter? counter = null)
    {
        using var scope = NewDisposeScope();
        return RefusalScores(LastLogProbs(prompts, hooks, cancel, counter), _refusalIds).mean().item<double>();
    }

    /// <summary>
    /// Mean refusal score of the harmless prompts with the vector added at the input of <paramref name="layer"/>: their
    /// shared prefix runs whole with the vector added (it is short), the rest from that layer's kept inputs.
    /// </summary>
    double SteeringScore(int layer, Tensor direction, CancellationToken cancel)
    {
        using var scope = NewDisposeScope();
        var add = Interventions.AddVector(direction, [layer]);
        int shared = PromptBatch.SharedPrefix(_harmless);
        using var prefix = PromptBatch.Prefix(_model, _harmless, shared, add);
        var rows = new List<Tensor>();
        for (int batch = 0; batch < _harmlessResidPre.Count; batch++)
        {
            cancel.ThrowIfCancellationRequested();
            var (count, _, mask) = PromptBatch.Batch(_model, _harmless, batch * _batchSize, _batchSize, shared);
            using var cache = prefix?.ForOnePass(count);
            using var result = _model.ForwardFrom(layer, _harmlessResidPre[batch][layer],
                new ForwardOptions { LastPositionLogitsOnly = true, PaddingMask = mask, Hooks = add }, cache);
            rows.Add(result.Logits.select(1, 0).to(ScalarType.Float64).log_softmax(-1));
        }
        return RefusalScores(cat(rows, 0), _refusalIds).mean().item<double>();
    }

    /// <summary>
    /// Float64 log-probabilities <c>[N, V]</c> of the next token after each prompt, with the interventions; the probes
    /// see what follows the prompts' shared prefix; <paramref name="afterBatch"/> runs after each batch's pass.
    /// </summary>
    Tensor LastLogProbs(IReadOnlyList<IReadOnlyList<int>> prompts, HookSet? interventions, CancellationToken cancel, ProgressCounter? counter = null,
        Action? afterBatch = null, HookSet? probes = null)
    {
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>();
        PromptBatch.Run(_model, prompts, _batchSize, interventions, (_, logits) =>
        {
            rows.Add(logits.to(ScalarType.Float64).log_softmax(-1).MoveToOuterDisposeScope());
            afterBatch?.Invoke();
        }, cancel, counter, probes);
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
        // Rooted scalars (see Scalars): `p + eps` and `1 - p` made temporaries the GC freed during the call, seen once
        // in a clean clone's test run as "Expected false to be true" in Scalar.toDouble. -p + 1 is 1 - p exactly.
        return Scalars.Plus(p, eps).log() - Scalars.Plus(Scalars.Plus(p.neg(), 1.0), eps).log();
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
        // Null-safe: the constructor disposes what it made when a baseline pass fails.
        _refusalIds?.Dispose();
        _harmlessProbs?.Dispose();
        _harmlessNegEntropy?.Dispose();
        foreach (var t in _harmlessResidPre.SelectMany(layers => layers)) t.Dispose();
    }
}
