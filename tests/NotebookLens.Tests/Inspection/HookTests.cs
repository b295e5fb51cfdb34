using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Tests.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

public sealed class HookTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    static readonly long[] GemmaPrompt = [2, 818, 17810, 563, 3826, 236761, 2900, 2258, 563, 506, 17810, 236881];
    static readonly long[] LlamaPrompt = [128000, 791, 24149, 374, 6307, 13, 3639, 1933, 374, 279, 24149, 30];

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Hooks_that_return_their_input_leave_logits_bit_identical(string name)
    {
        var (model, _) = models.Get(name);
        using var scope = NewDisposeScope();
        var ids = tensor(name == "llama" ? LlamaPrompt : GemmaPrompt);
        using var plain = model.Forward(ids);
        int calls = 0;
        var identity = new HookSet()
            .Add(_ => true, (x, _) => { calls++; return x; })
            .Add(_ => true, (x, _) => null)
            .Add(_ => true, (x, _) => x.clone());
        using var hooked = model.Forward(ids, new ForwardOptions { Hooks = identity });
        TensorAssert.Identical(plain.Logits, hooked.Logits);
        Assert.Equal(HookPoints.All(model.Config).Count, calls);
    }

    [Fact]
    public void Every_documented_hook_point_is_reached_once_with_its_shape()
    {
        var model = models.Gemma;
        var c = model.Config;
        using var scope = NewDisposeScope();
        var shapes = new Dictionary<string, long[]>();
        var record = new HookSet().Add(_ => true, (x, ctx) => { shapes.Add(ctx.Name, x.shape); return null; });
        using var run = model.Forward(tensor(GemmaPrompt), new ForwardOptions { Hooks = record });
        Assert.Equal(HookPoints.All(c), shapes.Keys);
        long t = GemmaPrompt.Length;
        Assert.Equal([1, t, c.HiddenSize], shapes["hook_embed"]);
        Assert.Equal([1, t, c.NumHeads, c.HeadDim], shapes["blocks.2.attn.hook_q"]);
        Assert.Equal([1, t, c.NumKeyValueHeads, c.HeadDim], shapes["blocks.2.attn.hook_k"]);
        Assert.Equal([1, c.NumHeads, t, t], shapes["blocks.2.attn.hook_pattern"]);
        Assert.Equal([1, t, c.NumHeads, c.HeadDim], shapes["blocks.2.attn.hook_z"]);
        Assert.Equal([1, t, c.IntermediateSize], shapes["blocks.2.mlp.hook_post"]);
        Assert.Equal([1, t, c.HiddenSize], shapes["ln_final.hook_normalized"]);
    }

    [Fact]
    public void Cached_residual_streams_equal_the_hidden_states()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var (result, cache) = model.RunWithCache(tensor(LlamaPrompt), forward: new ForwardOptions { HiddenStates = true, Attentions = true });
        using (result)
        using (cache)
        {
            int layers = model.Config.NumLayers;
            TensorAssert.Identical(result.HiddenStates![0], cache["hook_embed"]);
            for (int i = 0; i < layers; i++)
            {
                TensorAssert.Identical(result.HiddenStates[i], cache[HookPoints.ResidPre(i)]);
                TensorAssert.Identical(result.Attentions![i], cache[HookPoints.Pattern(i)]);
            }
            for (int i = 0; i < layers - 1; i++) TensorAssert.Identical(result.HiddenStates[i + 1], cache[HookPoints.ResidPost(i)]);
            TensorAssert.Identical(result.PrenormLast!, cache[HookPoints.ResidPost(layers - 1)]);
            TensorAssert.Identical(result.HiddenStates[layers], cache[HookPoints.FinalNorm]);
            // The stream adds up: resid_post = resid_mid + mlp_out = resid_pre + attn_out + mlp_out.
            TensorAssert.Close(cache[HookPoints.ResidPost(0)], cache[HookPoints.ResidPre(0)] + cache[HookPoints.AttnOut(0)] + cache[HookPoints.MlpOut(0)], 1e-5, 1e-5, "sum");
        }
    }

    [Fact]
    public void A_cache_can_keep_only_what_it_needs()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var options = new CacheOptions { Filter = n => n.EndsWith("hook_resid_post", StringComparison.Ordinal) || n.EndsWith("hook_pattern", StringComparison.Ordinal), LastPositionOnly = true };
        var (result, cache) = model.RunWithCache(tensor(GemmaPrompt), options, new ForwardOptions { HiddenStates = true });
        using (result)
        using (cache)
        {
            Assert.Equal(2 * model.Config.NumLayers, cache.Count);
            Assert.Equal([1, 1, model.Config.HiddenSize], cache[HookPoints.ResidPost(2)].shape);
            TensorAssert.Identical(result.HiddenStates![3].narrow(1, GemmaPrompt.Length - 1, 1), cache[HookPoints.ResidPost(2)]);
            Assert.Equal([1, model.Config.NumHeads, 1, GemmaPrompt.Length], cache[HookPoints.Pattern(0)].shape);
            Assert.Contains("blocks.0.hook_resid_post", Assert.Throws<KeyNotFoundException>(() => cache["blocks.0.hook_mlp_out"]).Message);
        }
    }

    [Fact]
    public void Cache_tensors_belong_to_the_callers_scope_unless_kept()
    {
        var model = models.Llama;
        ActivationCache freed, kept;
        using (NewDisposeScope())
        {
            (_, freed) = model.RunWithCache(tensor(LlamaPrompt), CacheOptions.Of(HookPoints.ResidPre(1)));
            (_, kept) = model.RunWithCache(tensor(LlamaPrompt), CacheOptions.Of(HookPoints.ResidPre(1)));
            kept.Keep();
        }
        Assert.True(freed[HookPoints.ResidPre(1)].IsInvalid, "the scope freed the cache's tensor");
        using (kept)
            Assert.Equal(LlamaPrompt.Length, kept[HookPoints.ResidPre(1)].shape[1]);
        Assert.Empty(kept);
    }

    [Fact]
    public void Unknown_hook_points_and_layers_are_refused()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var ids = tensor(LlamaPrompt);
        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(ids, new ForwardOptions { Hooks = new HookSet().Add("blocks.7.hook_resid_pre", (x, _) => x) }));
        Assert.Contains("layers 0 .. 1", outOfRange.Message);
        var unknown = Assert.Throws<ArgumentException>(() => model.Forward(ids, new ForwardOptions { Hooks = new HookSet().Add("blocks.0.hook_resid", (x, _) => x) }));
        Assert.Contains("hook_resid_pre", unknown.Message);
        var badShape = Assert.Throws<InvalidOperationException>(() => model.Forward(ids, new ForwardOptions { Hooks = new HookSet().Add("blocks.0.hook_resid_pre", (x, _) => x[.., ..2]) }));
        Assert.Contains("shape", badShape.Message);
        using var ok = model.Forward(ids);
        Assert.Equal(LlamaPrompt.Length, ok.Logits.shape[1]);
    }

    [Theory]
    [InlineData("llama", 0)]
    [InlineData("llama", 1)]
    [InlineData("gemma", 1)]
    public void Running_from_a_layer_on_its_input_equals_the_whole_pass(string name, int layer)
    {
        var (model, _) = models.Get(name);
        using var scope = NewDisposeScope();
        var prompt = name == "llama" ? LlamaPrompt : GemmaPrompt;
        // Two rows, the second left-padded by four: positions and masks come from the padding mask alone.
        var ids = stack([tensor(prompt), tensor(prompt[..4].Concat(prompt[..^4]).ToArray())]);
        var mask = stack([ones(prompt.Length, dtype: ScalarType.Bool), tensor(Enumerable.Range(0, prompt.Length).Select(i => i >= 4).ToArray())]);
        Tensor? input = null;
        var seen = new List<string>();
        // A hook at the starting layer (it must run) and a steering one after it, as the refusal experiment uses.
        var steer = new HookSet()
            .Add(_ => true, (x, ctx) => { seen.Add(ctx.Name); return null; })
            .Add(HookPoints.ResidPre(layer), (x, _) => { input ??= x.clone().DetachFromDisposeScope(); return x * 1.5; })
            .Add(HookPoints.MlpOut(model.Config.NumLayers - 1), (x, _) => x + 0.25);
        using var whole = model.Forward(ids, new ForwardOptions { PaddingMask = mask, Hooks = steer });
        int fromHere = seen.IndexOf(HookPoints.ResidPre(layer));
        var expectedSeen = seen.Skip(fromHere).ToList();
        seen.Clear();
        using var fromLayer = model.ForwardFrom(layer, input!, new ForwardOptions { PaddingMask = mask, Hooks = steer });
        TensorAssert.Identical(whole.Logits, fromLayer.Logits, $"{name} from layer {layer}");
        Assert.Equal(expectedSeen, seen);
        Assert.Equal(HookPoints.ResidPre(layer), seen[0]);

        using var last = model.ForwardFrom(layer, input!, new ForwardOptions { PaddingMask = mask, Hooks = steer, LastPositionLogitsOnly = true });
        TensorAssert.Close(last.Logits[.., 0], whole.Logits[.., -1], 1e-5);
        input!.Dispose();
    }

    [Fact]
    public void Running_from_a_layer_refuses_what_it_cannot_do_and_the_model_still_works()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var d = model.Config.HiddenSize;
        var resid = randn(1, 3, d);
        Assert.Contains("layers 0 .. 1", Assert.Throws<NotebookLens.Runtime.LensException>(() => model.ForwardFrom(2, resid)).Message);
        Assert.Contains($"[B, T, {d}]", Assert.Throws<ArgumentException>(() => model.ForwardFrom(1, randn(1, 3, d + 1))).Message);
        Assert.Contains("T > 0", Assert.Throws<ArgumentException>(() => model.ForwardFrom(1, randn(1, 0, d))).Message);
        Assert.Contains("hooks", Assert.Throws<ArgumentException>(() => model.ForwardFrom(1, resid, ForwardOptions.Everything)).Message);
        Assert.Contains("context", Assert.Throws<NotebookLens.Runtime.LensException>(() => model.ForwardFrom(1, randn(model.Config.MaxPositions + 1, d))).Message);
        using var ok = model.ForwardFrom(1, resid[0]);
        Assert.Equal([1L, 3, model.Config.VocabSize], ok.Logits.shape);
    }
}
