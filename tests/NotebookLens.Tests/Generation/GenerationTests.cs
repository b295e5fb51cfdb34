using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Steering;
using NotebookLens.Tests.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Generation;

public sealed class GenerationTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    static readonly GenerationOptions NoStop = new() { MaxNewTokens = 8, StopTokens = [] };

    static int[] Prompt(Golden golden, int p) => golden[$"input_ids.{p}"].data<long>().Select(x => (int)x).ToArray();

    [Theory]
    [MemberData(nameof(ParityTests.Prompts), MemberType = typeof(ParityTests))]
    public void Cached_greedy_generation_equals_the_reference_full_recomputation(string name, int p)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var result = model.Generate(Prompt(golden, p), NoStop);
        Assert.Equal(golden[$"generated_ids.{p}"].data<long>().Select(x => (int)x), result.NewIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Theory]
    [MemberData(nameof(ParityTests.Prompts), MemberType = typeof(ParityTests))]
    public void Generation_with_the_prompt_in_chunks_of_three_positions_equals_the_reference(string name, int p)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var result = model.GenerateBatch([Prompt(golden, p)], NoStop, prefillRows: 3)[0];
        Assert.Equal(golden[$"generated_ids.{p}"].data<long>().Select(x => (int)x), result.NewIds);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Token_by_token_with_the_cache_gives_the_full_pass_logits(string name)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var ids = golden["input_ids.2"];
        long t = ids.shape[0];
        using var full = model.Forward(ids);
        using var cache = new KvCache(model.Config.NumLayers, initialCapacity: 4);
        using var prefix = model.Forward(ids[..5], cache: cache);
        TensorAssert.Close(prefix.Logits[0], full.Logits[0, ..5], 1e-4, 1e-4, "prefill");
        for (long i = 5; i < t; i++)
        {
            using var step = model.Forward(ids.narrow(0, i, 1), cache: cache);
            TensorAssert.Close(step.Logits[0, 0], full.Logits[0, i], 1e-4, 1e-4, $"position {i}");
        }
        Assert.Equal(t, cache.Length);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void A_batch_of_different_lengths_generates_what_each_prompt_generates_alone(string name)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var prompts = Enumerable.Range(0, 4).Select(p => (IReadOnlyList<int>)Prompt(golden, p)).ToList();
        Assert.True(prompts.Select(p => p.Count).Distinct().Count() > 2);
        var batch = model.GenerateBatch(prompts, NoStop);
        for (int p = 0; p < prompts.Count; p++)
            Assert.Equal(model.Generate(prompts[p], NoStop).NewIds, batch[p].NewIds);

        var sampling = NoStop with { Temperature = 1.5, TopK = 50, TopP = 0.9, Seed = 7 };
        var sampledBatch = model.GenerateBatch(prompts, sampling);
        for (int p = 0; p < prompts.Count; p++)
            Assert.Equal(model.Generate(prompts[p], sampling).NewIds, sampledBatch[p].NewIds);
    }

    [Fact]
    public void Sampling_is_reproducible_and_degenerates_to_greedy()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var prompt = Prompt(models.GemmaGolden, 0);
        var hot = NoStop with { MaxNewTokens = 12, Temperature = 2.0, Seed = 1 };
        Assert.Equal(model.Generate(prompt, hot).NewIds, model.Generate(prompt, hot).NewIds);
        var seeds = Enumerable.Range(0, 5).Select(s => string.Join(",", model.Generate(prompt, hot with { Seed = s }).NewIds)).Distinct().Count();
        Assert.True(seeds > 1, "different seeds should give different samples at temperature 2");
        var greedy = model.Generate(prompt, NoStop with { MaxNewTokens = 12 }).NewIds;
        Assert.Equal(greedy, model.Generate(prompt, hot with { TopK = 1 }).NewIds);
        Assert.Equal(greedy, model.Generate(prompt, hot with { Temperature = 1e-6 }).NewIds);
    }

    [Fact]
    public void Stops_at_a_stop_token_and_keeps_it()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var prompt = Prompt(models.LlamaGolden, 0);
        var free = model.Generate(prompt, NoStop).NewIds;
        var stopped = model.Generate(prompt, NoStop with { StopTokens = [free[2]] });
        Assert.Equal(free.Take(free.ToList().IndexOf(free[2]) + 1), stopped.NewIds);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal([128001, 128008, 128009], model.StopTokenIds.Order());
    }

    [Fact]
    public void Streams_each_token_and_can_be_cancelled()
    {
        var model = models.Llama;
        using var scope = NewDisposeScope();
        var prompt = Prompt(models.LlamaGolden, 1);
        var seen = new List<GeneratedToken>();
        var full = model.Generate(prompt, NoStop with { OnToken = seen.Add });
        Assert.Equal(full.NewIds, seen.Select(s => s.Id));
        Assert.Equal(Enumerable.Range(0, 8), seen.Select(s => s.Step));

        using var cancel = new CancellationTokenSource();
        var partial = model.Generate(prompt, NoStop with { Cancellation = cancel.Token, OnToken = t => { if (t.Step == 1) cancel.Cancel(); } });
        Assert.Equal(full.NewIds.Take(2), partial.NewIds);
        Assert.Equal(FinishReason.Cancelled, partial.FinishReason);
    }

    [Fact]
    public void Interventions_apply_at_every_step()
    {
        var model = models.Gemma;
        using var scope = NewDisposeScope();
        var prompt = Prompt(models.GemmaGolden, 0);
        var plain = model.Generate(prompt, NoStop).NewIds;
        Assert.Equal(plain, model.Generate(prompt, NoStop with { Hooks = new HookSet().Add(_ => true, (x, _) => x) }).NewIds);

        // A large push along one direction at every position changes what comes out; only after the prompt, it changes less.
        var push = randn(model.Config.HiddenSize, generator: new TorchSharp.torch.Generator(3)) * 50;
        var steered = model.Generate(prompt, NoStop with { Hooks = Interventions.AddVector(push, [2]) }).NewIds;
        Assert.NotEqual(plain, steered);
        var positions = new List<long>();
        var hooks = new HookSet().Add(HookPoints.ResidPre(0), (x, ctx) => { positions.Add(ctx.PositionOffset); return null; });
        model.Generate(prompt, NoStop with { Hooks = hooks });
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)(i == 0 ? 0 : prompt.Length + i - 1)), positions);
    }

    [Fact]
    public void Bad_requests_are_refused()
    {
        var model = models.Llama;
        Assert.Throws<ArgumentException>(() => model.Generate([], NoStop));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate([128000], NoStop with { MaxNewTokens = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate([128000], NoStop with { TopP = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate([128000, 999_999], NoStop));
        Assert.Single(model.Generate([128000], NoStop with { MaxNewTokens = 1 }).NewIds);
    }
}
