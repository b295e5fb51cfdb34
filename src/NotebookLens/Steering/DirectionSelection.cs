using NotebookLens.Runtime;
using System.Globalization;

namespace NotebookLens.Steering;

/// <summary>
/// How a candidate direction did on the validation prompts (Arditi et al.'s three scores).
/// </summary>
/// <param name="Position">Post-instruction position it was taken from, counted from the end (-P .. -1).</param>
/// <param name="Layer">Block whose input it was taken from.</param>
/// <param name="Norm">Length of the mean difference; 0 where every prompt has the same token and context (layer 0).</param>
/// <param name="RefusalScore">Mean refusal score (log-odds) of harmful prompts with the direction ablated everywhere: lower bypasses refusal better.</param>
/// <param name="SteeringScore">Mean refusal score of harmless prompts with the vector added at its layer: higher induces refusal better.</param>
/// <param name="KlDivergence">Mean KL divergence (nats) of harmless next-token distributions, ablated vs. untouched: lower changes the model less.</param>
public sealed record CandidateScore(int Position, int Layer, double Norm, double RefusalScore, double SteeringScore, double KlDivergence);

/// <summary>Why a candidate was set aside.</summary>
public enum DiscardReason
{
    /// <summary>A score is NaN.</summary>
    NotANumber,
    /// <summary>The mean difference is zero: there is no direction (layer 0, where every prompt has the same template tokens).</summary>
    ZeroVector,
    /// <summary>It comes from the last layers (<see cref="SelectionThresholds.PruneLayerFraction"/>), where a direction mostly restates the output.</summary>
    LateLayer,
    /// <summary>Ablating it changes harmless behaviour too much (<see cref="SelectionThresholds.MaxKlDivergence"/>).</summary>
    HighKlDivergence,
    /// <summary>Adding it does not make harmless prompts refused (<see cref="SelectionThresholds.MinSteeringScore"/>).</summary>
    InducesNoRefusal,
}

/// <summary>One reason, with the numbers that made it apply.</summary>
public sealed record Discard(DiscardReason Reason, string Message);

/// <summary>A candidate with the reasons it was discarded (none: it was eligible).</summary>
public sealed record JudgedCandidate(CandidateScore Score, IReadOnlyList<Discard> Discards)
{
    public bool Eligible => Discards.Count == 0;
}

/// <summary>The filters of <c>select_direction</c>, with its defaults. Null turns a filter off.</summary>
public sealed record SelectionThresholds
{
    /// <summary>Discard candidates whose ablation moves harmless next-token distributions by more KL (nats) than this.</summary>
    public double? MaxKlDivergence { get; init; } = 0.1;

    /// <summary>Discard candidates whose addition leaves harmless prompts' refusal score below this (0: refusal at least as likely as not).</summary>
    public double? MinSteeringScore { get; init; } = 0.0;

    /// <summary>Discard candidates from layers ≥ ⌊L·(1 − f)⌋, the last fraction f of the model; 0 keeps every layer.</summary>
    public double PruneLayerFraction { get; init; } = 0.2;

    public static SelectionThresholds Default { get; } = new();
}

/// <summary>
/// Chooses the refusal direction among scored candidates as the reference <c>select_direction</c> does: discard
/// NaNs, the last layers, too high a KL divergence and directions that do not induce refusal; of the rest, take the
/// lowest ablation refusal score (ties: the first in the order given). Every candidate is kept with its reasons.
/// </summary>
public sealed class DirectionSelection
{
    DirectionSelection(IReadOnlyList<JudgedCandidate> candidates, SelectionThresholds thresholds, int numLayers)
    {
        Candidates = candidates;
        Thresholds = thresholds;
        NumLayers = numLayers;
        Best = candidates.Where(c => c.Eligible).OrderBy(c => c.Score.RefusalScore).FirstOrDefault()?.Score;
    }

    /// <summary>Every candidate, in the order given, with the reasons it was discarded.</summary>
    public IReadOnlyList<JudgedCandidate> Candidates { get; }

    public SelectionThresholds Thresholds { get; }

    public int NumLayers { get; }

    /// <summary>The chosen candidate, or null when every one was discarded (see <see cref="Require"/>).</summary>
    public CandidateScore? Best { get; }

    /// <summary>First layer the layer filter discards (<see cref="NumLayers"/> when it discards none).</summary>
    public int FirstPrunedLayer => FirstPruned(NumLayers, Thresholds.PruneLayerFraction);

    public static DirectionSelection Select(IReadOnlyList<CandidateScore> scores, int numLayers, SelectionThresholds? thresholds = null)
    {
        thresholds ??= SelectionThresholds.Default;
        return new DirectionSelection(scores.Select(s => Judge(s, numLayers, thresholds)).ToList(), thresholds, numLayers);
    }

    /// <summary>One candidate's reasons to be discarded, which depend on nothing but its scores, so they can be shown as it is scored.</summary>
    public static JudgedCandidate Judge(CandidateScore score, int numLayers, SelectionThresholds thresholds) =>
        new(score, Discards(score, thresholds, FirstPruned(numLayers, thresholds.PruneLayerFraction)));

    // As the reference: int(n_layer * (1.0 - prune_layer_percentage)).
    static int FirstPruned(int numLayers, double fraction) => fraction is >= 0 and < 1
        ? (int)(numLayers * (1.0 - fraction))
        : throw new ArgumentOutOfRangeException(nameof(fraction), $"PruneLayerFraction must be in [0, 1), not {fraction}.");

    static List<Discard> Discards(CandidateScore s, SelectionThresholds t, int firstPruned)
    {
        var discards = new List<Discard>();
        if (double.IsNaN(s.RefusalScore) || double.IsNaN(s.SteeringScore) || double.IsNaN(s.KlDivergence))
            discards.Add(new(DiscardReason.NotANumber, "a score is NaN"));
        if (s.Norm == 0)
            discards.Add(new(DiscardReason.ZeroVector, "the mean difference is zero (the same tokens and context in every prompt)"));
        if (s.Layer >= firstPruned)
            discards.Add(new(DiscardReason.LateLayer, $"layer {s.Layer} is in the last {t.PruneLayerFraction:P0} of layers (≥ {firstPruned})"));
        if (t.MaxKlDivergence is double kl && s.KlDivergence > kl)
            discards.Add(new(DiscardReason.HighKlDivergence, $"KL divergence {Number(s.KlDivergence)} > {Number(kl)}"));
        if (t.MinSteeringScore is double steer && s.SteeringScore < steer)
            discards.Add(new(DiscardReason.InducesNoRefusal, $"steering score {Number(s.SteeringScore)} < {Number(steer)}: adding it does not induce refusal"));
        return discards;
    }

    static string Number(double x) => x.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>The chosen candidate; when none is eligible, a <see cref="NoRefusalDirectionException"/> saying what discarded them and how to relax the filters.</summary>
    public CandidateScore Require() => Best ?? throw new NoRefusalDirectionException(this);

    /// <summary>How many candidates each reason discarded (a candidate can count under several).</summary>
    public IReadOnlyDictionary<DiscardReason, int> DiscardCounts =>
        Candidates.SelectMany(c => c.Discards).GroupBy(d => d.Reason).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
}

/// <summary>
/// Every candidate direction was discarded. <see cref="LensException.Problem"/> says by which filters,
/// <see cref="LensException.Remedy"/> how to relax them in <see cref="SelectionThresholds"/> and
/// <see cref="RefusalExperimentOptions"/> terms; <see cref="Selection"/> has the counts for a front end's own wording.
/// </summary>
public sealed class NoRefusalDirectionException(DirectionSelection selection)
    : LensException(LensErrorKind.NoResult, Explain(selection), RemedyFor(selection), "Thresholds")
{
    public DirectionSelection Selection { get; } = selection;

    static int Count(DirectionSelection s, DiscardReason r) => s.DiscardCounts.GetValueOrDefault(r);

    static string Explain(DirectionSelection s)
    {
        var t = s.Thresholds;
        var causes = new List<string>();
        if (Count(s, DiscardReason.LateLayer) > 0) causes.Add($"{Count(s, DiscardReason.LateLayer)} come from the last layers (≥ {s.FirstPrunedLayer})");
        if (Count(s, DiscardReason.HighKlDivergence) > 0) causes.Add($"{Count(s, DiscardReason.HighKlDivergence)} change harmless outputs by a KL divergence above {t.MaxKlDivergence}");
        if (Count(s, DiscardReason.InducesNoRefusal) > 0) causes.Add($"{Count(s, DiscardReason.InducesNoRefusal)} do not induce refusal (steering score below {t.MinSteeringScore})");
        if (Count(s, DiscardReason.ZeroVector) > 0) causes.Add($"{Count(s, DiscardReason.ZeroVector)} are zero vectors");
        if (Count(s, DiscardReason.NotANumber) > 0) causes.Add($"{Count(s, DiscardReason.NotANumber)} have NaN scores");
        return $"No candidate direction survived the filters: of {s.Candidates.Count}, {string.Join("; ", causes)}.";
    }

    static string RemedyFor(DirectionSelection s)
    {
        var remedies = new List<string>();
        if (Count(s, DiscardReason.LateLayer) > 0) remedies.Add("prune fewer layers (PruneLayerFraction)");
        if (Count(s, DiscardReason.HighKlDivergence) > 0) remedies.Add("raise MaxKlDivergence");
        if (Count(s, DiscardReason.InducesNoRefusal) > 0)
            remedies.Add("lower or turn off MinSteeringScore (a model without trained refusal behaviour, such as random weights or a base model, never passes it)");
        remedies.Add("use another layer (Layer) or other instructions");
        return $"To relax them: {string.Join("; ", remedies)}.";
    }
}
