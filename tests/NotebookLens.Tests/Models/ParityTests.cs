using NotebookLens.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>fp32 models loaded once per test class (fixture weights are bf16; fp32 compute as the references).</summary>
public sealed class FixtureModels : IDisposable
{
    public LanguageModel Llama { get; } = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
    public LanguageModel Gemma { get; } = LanguageModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });
    public Golden LlamaGolden { get; } = new(Fixtures.Llama);
    public Golden GemmaGolden { get; } = new(Fixtures.Gemma);

    public (LanguageModel, Golden) Get(string name) => name == "llama" ? (Llama, LlamaGolden) : (Gemma, GemmaGolden);

    public void Dispose()
    {
        Llama.Dispose();
        Gemma.Dispose();
        LlamaGolden.Dispose();
        GemmaGolden.Dispose();
    }
}

/// <summary>Logits, hidden states, attention maps and greedy continuations against Meta's and Google's reference code.</summary>
public sealed class ParityTests(FixtureModels models, ITestOutputHelper log) : IClassFixture<FixtureModels>
{
    public static TheoryData<string, int> Prompts()
    {
        var data = new TheoryData<string, int>();
        foreach (var m in new[] { "llama", "gemma" })
            for (int p = 0; p < 4; p++) data.Add(m, p);
        return data;
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Forward_matches_reference(string name, int p)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var ids = golden[$"input_ids.{p}"];
        using var result = model.Forward(ids, ForwardOptions.Everything);
        var logits = result.Logits[0];
        long t = ids.shape[0];

        double lastDiff = TensorAssert.Close(logits[-1], golden[$"logits_last.{p}"], 1e-4, 1e-4, "logits_last");
        double probeDiff = TensorAssert.Close(logits.index_select(1, golden["logits_probe_ids"]), golden[$"logits_probe.{p}"], 1e-4, 1e-4, "logits_probe");
        var topIds = golden[$"logits_top20_ids.{p}"];
        double topDiff = TensorAssert.Close(logits.gather(1, topIds), golden[$"logits_top20_values.{p}"], 1e-4, 1e-4, "logits_top20");
        Assert.Equal(topIds[.., 0].data<long>().ToArray(), logits.argmax(1).data<long>().ToArray());

        Assert.Equal(model.Config.NumLayers + 1, result.HiddenStates!.Count);
        double hiddenDiff = 0;
        for (int i = 0; i <= model.Config.NumLayers; i++)
            hiddenDiff = Math.Max(hiddenDiff, TensorAssert.Close(result.HiddenStates[i][0], golden[$"hidden.{p}.{i}"], 1e-4, 1e-4, $"hidden.{i}"));
        double normDiff = TensorAssert.Close(result.HiddenStates[^1][0], golden[$"final_norm.{p}"], 1e-4, 1e-4, "final_norm");
        double prenormDiff = TensorAssert.Close(result.PrenormLast![0], golden[$"prenorm_last.{p}"], 1e-4, 1e-4, "prenorm_last");

        Assert.Equal(model.Config.NumLayers, result.Attentions!.Count);
        double attnDiff = 0;
        for (int l = 0; l < model.Config.NumLayers; l++)
        {
            var expected = golden[$"attn.{p}.{l}"];
            var actual = result.Attentions[l][0];
            attnDiff = Math.Max(attnDiff, TensorAssert.Close(actual, expected, 1e-5, 0, $"attn.{l}"));
            // Masked entries are exactly zero in the reference; ours must be too.
            var masked = expected.eq(0);
            Assert.True(actual.masked_select(masked).abs().max().item<float>() < 1e-30f, $"attn.{l}: masked entries are not 0");
            Assert.Equal(t, actual.shape[^1]);
        }
        log.WriteLine($"{name} prompt {p} (T={t}): logits_last {lastDiff:E2}, probe {probeDiff:E2}, top20 {topDiff:E2}, hidden {hiddenDiff:E2}, final_norm {normDiff:E2}, prenorm_last {prenormDiff:E2}, attn {attnDiff:E2}");
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Greedy_continuation_by_full_recomputation_matches_reference(string name, int p)
    {
        var (model, golden) = models.Get(name);
        using var scope = NewDisposeScope();
        var ids = golden[$"input_ids.{p}"].data<long>().ToList();
        var expected = golden[$"generated_ids.{p}"].data<long>().ToArray();
        var generated = new List<long>();
        for (int step = 0; step < expected.Length; step++)
        {
            using var input = tensor(ids.ToArray());
            using var result = model.Forward(input, new ForwardOptions { LastPositionLogitsOnly = true });
            long next = result.Logits[0, -1].argmax().item<long>();
            generated.Add(next);
            ids.Add(next);
        }
        Assert.Equal(expected, generated);
    }

    [Fact]
    public void Llama_rope_tables_match_reference()
    {
        using var scope = NewDisposeScope();
        var g = models.LlamaGolden;
        using var rope = new RotaryEmbedding(models.Llama.Config.Rope, models.Llama.Config.HeadDim);
        TensorAssert.Close(rope.InverseFrequencies, g["rope.inv_freq"], 0, 0, "inv_freq");
        using var plain = new RotaryEmbedding(models.Llama.Config.Rope with { Type = "default" }, models.Llama.Config.HeadDim);
        TensorAssert.Close(plain.InverseFrequencies, g["rope.inv_freq_unscaled"], 0, 0, "inv_freq_unscaled");
        AssertTables(rope, g["rope.positions"], g["rope.cos"], g["rope.sin"]);
    }

    [Fact]
    public void Gemma_local_and_global_rope_tables_match_reference()
    {
        using var scope = NewDisposeScope();
        var g = models.GemmaGolden;
        var c = models.Gemma.Config;
        using var global = new RotaryEmbedding(c.Rope, c.HeadDim);
        using var local = new RotaryEmbedding(c.LocalRope!, c.HeadDim);
        AssertTables(global, g["rope.positions"], g["rope.global.cos"], g["rope.global.sin"]);
        AssertTables(local, g["rope.positions"], g["rope.local.cos"], g["rope.local.sin"]);
    }

    static void AssertTables(RotaryEmbedding rope, Tensor positions, Tensor cos, Tensor sin)
    {
        var (c, s) = rope.HalfTables(positions);
        var small = positions.lt(64).nonzero().squeeze(1);
        TensorAssert.Close(c.index_select(0, small), cos.index_select(0, small), 1e-6, 0, "cos (positions < 64)");
        TensorAssert.Close(s.index_select(0, small), sin.index_select(0, small), 1e-6, 0, "sin (positions < 64)");
        TensorAssert.Close(c, cos, 1e-3, 0, "cos");
        TensorAssert.Close(s, sin, 1e-3, 0, "sin");
    }
}
