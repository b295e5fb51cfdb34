using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// Candidate refusal directions (Arditi et al. 2024): for every layer l and post-instruction position p, the mean
/// over harmful prompts minus the mean over harmless prompts of the residual stream at the input of block l
/// (<c>blocks.{l}.hook_resid_pre</c> = HF <c>hidden_states[l]</c>), accumulated in float64.
/// </summary>
public sealed class CandidateDirections : IDisposable
{
    CandidateDirections(Tensor meanDiffs) => MeanDiffs = meanDiffs;

    /// <summary>
    /// <c>[P, L, D]</c> float64. Row <c>i</c> is position <c>i - P</c> counted from the end of the prompt
    /// (row 0 is the first post-instruction token, row P-1 the last token of the prompt).
    /// </summary>
    public Tensor MeanDiffs { get; }

    /// <summary>Number of post-instruction positions P.</summary>
    public int Positions => (int)MeanDiffs.shape[0];

    public int Layers => (int)MeanDiffs.shape[1];

    /// <summary>The mean difference <c>[D]</c> (float64) at a position counted from the end (-P .. -1) and a layer. The caller disposes it.</summary>
    public Tensor this[int position, int layer]
    {
        get
        {
            if (position < -Positions || position > -1)
                throw new ArgumentOutOfRangeException(nameof(position), $"Position {position} is not a post-instruction position; they are -{Positions} .. -1, counted from the end of the prompt.");
            if (layer < 0 || layer >= Layers) throw new ArgumentOutOfRangeException(nameof(layer), Ranges.Message(layer, Layers, "layer"));
            return MeanDiffs[Positions + position, layer];
        }
    }

    /// <summary>
    /// Runs both prompt sets (token ids, each ending with the <paramref name="positions"/> post-instruction tokens) in
    /// left-padded batches, keeping only the last <paramref name="positions"/> positions of each block input.
    /// <paramref name="cancel"/> is checked before every batch (<see cref="OperationCanceledException"/>);
    /// <paramref name="progress"/> is told the prompts done (stage <see cref="Stage"/>).
    /// </summary>
    public static CandidateDirections Compute(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> harmful, IReadOnlyList<IReadOnlyList<int>> harmless, int positions, int batchSize = 16,
        CancellationToken cancel = default, IProgress<LensProgress>? progress = null)
    {
        if (harmful.Count == 0 || harmless.Count == 0) throw new ArgumentException("Both prompt sets need at least one prompt.");
        if (positions < 1) throw new ArgumentOutOfRangeException(nameof(positions), "At least one position is needed.");
        if (harmful.Concat(harmless).Any(p => p.Count < positions))
            throw new ArgumentException($"Every prompt needs at least {positions} tokens (its post-instruction tokens).");
        using var scope = NewDisposeScope();
        var counter = new ProgressCounter(progress, Stage, harmful.Count + harmless.Count, "prompts").Start();
        var diff = MeanResidPre(model, harmful, positions, batchSize, cancel, counter) - MeanResidPre(model, harmless, positions, batchSize, cancel, counter);
        return new CandidateDirections(diff.DetachFromDisposeScope());
    }

    /// <summary><c>[P, L, D]</c> float64 mean of the last P positions of every block input.</summary>
    static Tensor MeanResidPre(LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, int positions, int batchSize, CancellationToken cancel, ProgressCounter counter)
    {
        var c = model.Config;
        var sum = zeros([positions, c.NumLayers, c.HiddenSize], dtype: ScalarType.Float64, device: model.Device);
        var names = Enumerable.Range(0, c.NumLayers).Select(HookPoints.ResidPre).ToHashSet(StringComparer.Ordinal);
        // Left padding puts every prompt's last P tokens in the last P columns (the shared prefix leaves P of each).
        var hooks = new HookSet().Add(names.Contains, (x, ctx) =>
        {
            sum.select(1, ctx.Layer!.Value).add_(x.narrow(1, x.shape[1] - positions, positions).to(ScalarType.Float64).sum(dim: 0), Scalars.Of(1.0));
            return null;
        });
        PromptBatch.Run(model, prompts, batchSize, null, cancel: cancel, progress: counter, probes: hooks, keep: positions);
        return sum.div_(prompts.Count);
    }

    /// <summary>The progress stage of <see cref="Compute"/>.</summary>
    public const string Stage = "mean activations";

    public void Dispose() => MeanDiffs.Dispose();
}
