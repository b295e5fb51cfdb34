using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Steering;
using NotebookLens.Tests.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Steering;

public sealed class InterventionTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    static readonly long[] Prompt = [2, 818, 17810, 563, 3826, 236761, 2900, 2258, 563, 506, 17810, 236881];

    [Fact]
    public void Adding_a_zero_vector_changes_nothing()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var ids = tensor(Prompt);
        using var plain = model.Forward(ids);
        using var added = model.Forward(ids, new ForwardOptions { Hooks = Interventions.AddVector(zeros(model.Config.HiddenSize), [0, 3, 5]) });
        TensorAssert.Identical(plain.Logits, added.Logits);
    }

    [Fact]
    public void Adding_a_vector_moves_the_stream_by_exactly_that_vector()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 128000, 791, 24149, 374 });
        var v = randn(model.Config.HiddenSize);
        var hooks = Interventions.AddVector(v, [1], scale: 2.0, atPosition: p => p >= 2);
        var (plainRun, plain) = model.RunWithCache(ids, CacheOptions.Of(HookPoints.ResidPre(1)));
        var (steeredRun, steered) = model.RunWithCache(ids, CacheOptions.Of(HookPoints.ResidPre(1)) with { Interventions = hooks });
        using (plainRun) using (plain) using (steeredRun) using (steered)
        {
            var delta = steered[HookPoints.ResidPre(1)] - plain[HookPoints.ResidPre(1)];
            TensorAssert.Close(delta[0, ..2], zeros(2, model.Config.HiddenSize), 0, 0, "untouched positions");
            TensorAssert.Close(delta[0, 2..], (2.0 * v).expand(2, -1), 1e-5, 1e-5, "added");
            Assert.True((steeredRun.Logits - plainRun.Logits).abs().max().item<float>() > 1e-3);
        }
    }

    [Fact]
    public void Ablating_a_direction_leaves_no_component_along_it()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var direction = randn(model.Config.HiddenSize);
        var unit = Interventions.Unit(direction);
        var streams = new CacheOptions
        {
            Filter = n => n.EndsWith("hook_resid_pre", StringComparison.Ordinal) || n.EndsWith("hook_attn_out", StringComparison.Ordinal) || n.EndsWith("hook_mlp_out", StringComparison.Ordinal) || n.EndsWith("hook_resid_post", StringComparison.Ordinal),
            Interventions = Interventions.AblateDirection(direction, model.Config),
        };
        var (result, cache) = model.RunWithCache(tensor(Prompt), streams);
        using (result)
        using (cache)
        {
            foreach (var (name, activation) in cache)
            {
                var along = activation.matmul(unit).abs().max().item<float>();
                var size = activation.abs().max().item<float>();
                Assert.True(along <= 1e-5 * Math.Max(1, size), $"{name}: component {along}");
            }
        }
    }

    [Fact]
    public void Ablation_then_adding_the_component_back_round_trips()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 128000, 791, 24149, 374, 6307 });
        var unit = Interventions.Unit(randn(model.Config.HiddenSize));
        var (plainRun, plain) = model.RunWithCache(ids, CacheOptions.Of(HookPoints.ResidPre(1)));
        using (plainRun) using (plain)
        {
            var component = plain[HookPoints.ResidPre(1)].matmul(unit);
            // Project out at layer 1's input, then add the same component back: the run is unchanged.
            var hooks = Interventions.Custom(HookPoints.ResidPre(1), (x, _) => x - x.matmul(unit).unsqueeze(-1) * unit)
                .Then(Interventions.Custom(HookPoints.ResidPre(1), (x, _) => x + component.unsqueeze(-1) * unit));
            using var roundTrip = model.Forward(ids, new ForwardOptions { Hooks = hooks });
            TensorAssert.Close(roundTrip.Logits, plainRun.Logits, 1e-4, 1e-4, "round trip");
        }
    }

    [Fact]
    public void Patching_a_run_into_itself_reproduces_it()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var ids = tensor(Prompt);
        var (run, cache) = model.RunWithCache(ids, CacheOptions.Of(HookPoints.ResidPost(2)));
        using (run)
        using (cache)
        {
            var source = cache[HookPoints.ResidPost(2)][0];
            var positions = Enumerable.Range(0, Prompt.Length).Select(i => (long)i).ToList();
            using var patched = model.Forward(ids, new ForwardOptions { Hooks = Interventions.Patch(HookPoints.ResidPost(2), source, positions) });
            TensorAssert.Identical(run.Logits, patched.Logits);
        }
    }

    [Fact]
    public void Patching_another_runs_state_changes_only_later_positions()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var a = tensor(new long[] { 128000, 791, 24149, 374, 6307 });
        var b = tensor(new long[] { 128000, 791, 8415, 374, 2579 });
        var (runA, cacheA) = model.RunWithCache(a, CacheOptions.Of(HookPoints.ResidPre(1)));
        using (runA) using (cacheA)
        {
            var vector = cacheA[HookPoints.ResidPre(1)][0, 2];
            using var plainB = model.Forward(b);
            using var patchedB = model.Forward(b, new ForwardOptions { Hooks = Interventions.Patch(HookPoints.ResidPre(1), vector, [2]) });
            TensorAssert.Identical(plainB.Logits[0, ..2], patchedB.Logits[0, ..2]);
            Assert.True((plainB.Logits[0, 2..] - patchedB.Logits[0, 2..]).abs().max().item<float>() > 1e-4);
        }
    }

    [Fact]
    public void Head_ablation_zeroes_exactly_those_heads()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var capture = CacheOptions.Of(HookPoints.Z(1)) with { Interventions = Interventions.AblateHeads(1, [2]) };
        var (plainRun, plain) = model.RunWithCache(tensor(Prompt), CacheOptions.Of(HookPoints.Z(1)));
        var (run, cache) = model.RunWithCache(tensor(Prompt), capture);
        using (plainRun) using (plain) using (run) using (cache)
        {
            var z = cache[HookPoints.Z(1)];
            Assert.Equal(0f, z[.., .., 2].abs().max().item<float>());
            TensorAssert.Identical(plain[HookPoints.Z(1)][.., .., ..2], z[.., .., ..2]);
            TensorAssert.Identical(plain[HookPoints.Z(1)][.., .., 3..], z[.., .., 3..]);
        }
    }

    [Fact]
    public void Neuron_mean_ablation_replaces_exactly_those_neurons_by_their_mean()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var capture = CacheOptions.Of(HookPoints.Neurons(1));
        var (plainRun, plain) = model.RunWithCache(tensor(Prompt), capture);
        var (run, cache) = model.RunWithCache(tensor(Prompt), capture with { Interventions = Interventions.AblateNeurons(1, [5, 7], AblationMode.Mean) });
        using (plainRun) using (plain) using (run) using (cache)
        {
            var before = plain[HookPoints.Neurons(1)];
            var after = cache[HookPoints.Neurons(1)];
            foreach (int n in new[] { 5, 7 })
                TensorAssert.Close(after[.., .., n], before[.., .., n].mean([1], keepdim: true).expand(-1, Prompt.Length), 1e-6, 1e-6, $"neuron {n}");
            TensorAssert.Identical(before[.., .., 6], after[.., .., 6]);
            TensorAssert.Identical(before[.., .., ..5], after[.., .., ..5]);
        }
    }

    [Fact]
    public void A_zero_direction_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Interventions.Unit(zeros(8)));
    }
}
