using NotebookLens.Steering;

namespace NotebookLens.Tests.Steering;

/// <summary>The selection rules on hand-made scores, apart from any model.</summary>
public sealed class DirectionSelectionTests
{
    static CandidateScore Good(int layer, double refusal, int position = -1) => new(position, layer, 1.0, refusal, SteeringScore: 2.0, KlDivergence: 0.01);

    static IReadOnlyList<DiscardReason> Reasons(DirectionSelection s, int layer, int position = -1) =>
        s.Candidates.Single(c => c.Score.Layer == layer && c.Score.Position == position).Discards.Select(d => d.Reason).ToList();

    [Theory]
    // int(L * 0.8): the last 20 % of layers go.
    [InlineData(10, 0.2, 8)]
    [InlineData(28, 0.2, 22)]
    [InlineData(16, 0.2, 12)]
    [InlineData(2, 0.2, 1)]
    [InlineData(6, 0.5, 3)]
    [InlineData(6, 0.0, 6)]
    public void The_last_layers_are_pruned(int layers, double fraction, int firstPruned)
    {
        var scores = Enumerable.Range(0, layers).Select(l => Good(l, -l)).ToList();
        var selection = DirectionSelection.Select(scores, layers, new SelectionThresholds { PruneLayerFraction = fraction });
        Assert.Equal(firstPruned, selection.FirstPrunedLayer);
        for (int l = 0; l < layers; l++)
            Assert.Equal(l >= firstPruned, Reasons(selection, l).Contains(DiscardReason.LateLayer));
        // Lower refusal scores are better, and later layers score lower here: the last kept layer wins.
        Assert.Equal(firstPruned - 1, selection.Best!.Layer);
    }

    [Fact]
    public void Kl_and_steering_thresholds_discard_at_their_bounds()
    {
        var scores = new List<CandidateScore>
        {
            new(-1, 0, 1, RefusalScore: -5, SteeringScore: 1, KlDivergence: 0.1),          // KL at the bound: kept
            new(-2, 0, 1, RefusalScore: -9, SteeringScore: 1, KlDivergence: 0.1000001),    // just above: discarded
            new(-3, 0, 1, RefusalScore: -8, SteeringScore: -0.001, KlDivergence: 0.0),     // does not induce refusal
            new(-4, 0, 1, RefusalScore: -7, SteeringScore: 0, KlDivergence: 0.05),         // steering at the bound: kept
        };
        var selection = DirectionSelection.Select(scores, 10);
        Assert.Equal([DiscardReason.HighKlDivergence], Reasons(selection, 0, -2));
        Assert.Equal([DiscardReason.InducesNoRefusal], Reasons(selection, 0, -3));
        Assert.Empty(Reasons(selection, 0, -1));
        Assert.Empty(Reasons(selection, 0, -4));
        Assert.Equal(-4, selection.Best!.Position);
        Assert.Contains("KL divergence 0.1 > 0.1", selection.Candidates[1].Discards[0].Message);

        // Thresholds are parameters: looser ones let the others in.
        var loose = DirectionSelection.Select(scores, 10, new SelectionThresholds { MaxKlDivergence = 0.2, MinSteeringScore = -1 });
        Assert.All(loose.Candidates, c => Assert.True(c.Eligible));
        Assert.Equal(-2, loose.Best!.Position);
        var off = DirectionSelection.Select(scores, 10, new SelectionThresholds { MaxKlDivergence = null, MinSteeringScore = null });
        Assert.Equal(-2, off.Best!.Position);
    }

    [Fact]
    public void Every_reason_is_reported_and_nan_or_zero_vectors_never_win()
    {
        var scores = new List<CandidateScore>
        {
            new(-1, 9, 1, RefusalScore: -20, SteeringScore: -1, KlDivergence: 3),
            new(-1, 1, 1, RefusalScore: double.NaN, SteeringScore: 1, KlDivergence: 0),
            new(-1, 0, 0, RefusalScore: -30, SteeringScore: 1, KlDivergence: 0),
            Good(2, 1.5),
        };
        var selection = DirectionSelection.Select(scores, 10);
        Assert.Equal([DiscardReason.LateLayer, DiscardReason.HighKlDivergence, DiscardReason.InducesNoRefusal], Reasons(selection, 9));
        Assert.Equal([DiscardReason.NotANumber], Reasons(selection, 1));
        Assert.Equal([DiscardReason.ZeroVector], Reasons(selection, 0));
        Assert.Equal(2, selection.Best!.Layer);
        Assert.Equal(4, selection.Candidates.Count);
    }

    [Fact]
    public void Ties_go_to_the_first_candidate_in_order()
    {
        var selection = DirectionSelection.Select([Good(3, -2, -2), Good(1, -2, -1), Good(2, -1)], 10);
        Assert.Equal((-2, 3), (selection.Best!.Position, selection.Best.Layer));
    }

    [Fact]
    public void When_nothing_survives_the_error_says_why_and_how_to_relax()
    {
        var scores = new List<CandidateScore>
        {
            new(-1, 0, 1, -3, SteeringScore: -11, KlDivergence: 0.01),
            new(-1, 1, 1, -3, SteeringScore: -10, KlDivergence: 0.5),
            new(-1, 2, 1, -3, SteeringScore: 4, KlDivergence: 0),
        };
        var selection = DirectionSelection.Select(scores, 3);
        Assert.Null(selection.Best);
        Assert.Equal(2, selection.DiscardCounts[DiscardReason.InducesNoRefusal]);
        Assert.Equal(1, selection.DiscardCounts[DiscardReason.HighKlDivergence]);
        Assert.Equal(1, selection.DiscardCounts[DiscardReason.LateLayer]);
        var e = Assert.Throws<NoRefusalDirectionException>(() => selection.Require());
        Assert.Contains("No candidate direction survived", e.Message);
        Assert.Contains("2 do not induce refusal", e.Message);
        Assert.Contains("MinSteeringScore", e.Remedy);
        Assert.DoesNotContain("--", e.Message);
        Assert.Contains("MaxKlDivergence", e.Remedy);
        Assert.Same(selection, e.Selection);
    }

    [Fact]
    public void A_prune_fraction_outside_0_to_1_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DirectionSelection.Select([Good(0, 0)], 4, new SelectionThresholds { PruneLayerFraction = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirectionSelection.Select([Good(0, 0)], 4, new SelectionThresholds { PruneLayerFraction = -0.1 }));
    }
}
