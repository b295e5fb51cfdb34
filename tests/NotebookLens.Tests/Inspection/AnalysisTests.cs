using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>fp32 fixture models with their real tokenizers, loaded once.</summary>
public sealed class FixtureLenses : IDisposable
{
    public LensModel Llama { get; } = LensModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
    public LensModel Gemma { get; } = LensModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });

    public LensModel Get(string name) => name == "llama" ? Llama : Gemma;

    public void Dispose()
    {
        Llama.Dispose();
        Gemma.Dispose();
    }
}

/// <summary>Properties of the lecture's analyses that hold on any model, checked on the fixture models.</summary>
public sealed class AnalysisTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Theory]
    [InlineData("llama", "Ġapple")]
    [InlineData("gemma", "▁apple")]
    public void A_tokens_nearest_neighbour_is_itself(string name, string token)
    {
        var lens = lenses.Get(name);
        using var space = new EmbeddingSpace(lens);
        var nearest = space.Nearest(token, k: 5);
        Assert.Equal(lens.Tokenizer.TokenToId(token), nearest[0].Id);
        Assert.Equal(1.0, nearest[0].Similarity, 4);
        Assert.Equal(" apple", nearest[0].Text);
        Assert.True(nearest.Zip(nearest.Skip(1)).All(p => p.First.Similarity >= p.Second.Similarity));
    }

    [Fact]
    public void A_bf16_table_gives_the_exact_float32_ranking()
    {
        using var lens = LensModel.Load(Fixtures.Gemma);
        Assert.Equal(ScalarType.BFloat16, lens.Model.Embeddings.dtype);
        using var space = new EmbeddingSpace(lens);
        using var scope = NewDisposeScope();
        var v = randn(lens.Config.HiddenSize, generator: new TorchSharp.torch.Generator(11));
        var table = lens.Model.Embeddings.to(ScalarType.Float32);
        var exact = table.matmul(v) / (table.norm(1) * v.norm());
        var (values, indices) = exact.topk(8);
        var found = space.Nearest(v, 8, exclude: [indices[0].item<long>() is var first ? (int)first : 0]);
        // With the best one excluded, the rest of the exact top 8 comes back in order.
        Assert.Equal(indices.data<long>().Skip(1).Select(i => (int)i), found.Take(7).Select(n => n.Id));
        for (int i = 0; i < 7; i++) Assert.Equal(values[i + 1].item<float>(), found[i].Similarity, 5);
    }

    [Fact]
    public void Words_resolve_to_their_tokens()
    {
        using var space = new EmbeddingSpace(lenses.Llama);
        Assert.Single(space.Resolve("Ġcold").Ids);
        Assert.Equal(lenses.Llama.Tokenizer.Encode(" cold", addSpecialTokens: false), space.Resolve(" cold").Ids);
        var multi = space.Resolve("天氣預報");
        Assert.True(multi.Ids.Count > 1);
        using var mean = space.VectorOf("天氣預報");
        using var expected = stack(multi.Ids.Select(space.Vector).ToArray()).mean([0]);
        TensorAssert.Close(mean, expected, 1e-6, 0, "mean vector");
    }

    [Fact]
    public void Arithmetic_is_the_sum_of_the_vectors_without_the_inputs()
    {
        using var space = new EmbeddingSpace(lenses.Gemma);
        var (plus, minus) = EmbeddingSpace.ParseExpression("冷 - cold + small");
        Assert.Equal(["冷", "small"], plus);
        Assert.Equal(["cold"], minus);
        var result = space.Arithmetic(plus, minus, k: 5);
        var inputs = plus.Concat(minus).SelectMany(t => space.Resolve(t).Ids).ToHashSet();
        Assert.DoesNotContain(result, n => inputs.Contains(n.Id));
        using var v = space.VectorOf("冷") - space.VectorOf("cold") + space.VectorOf("small");
        Assert.Equal(space.Nearest(v, 20, inputs).Take(5).Select(n => n.Id), result.Select(n => n.Id));
        Assert.Throws<ArgumentException>(() => EmbeddingSpace.ParseExpression("- cold"));
    }

    [Fact]
    public void Output_table_is_the_input_table_when_tied()
    {
        using var input = new EmbeddingSpace(lenses.Llama, EmbeddingTable.Input);
        using var output = new EmbeddingSpace(lenses.Llama, EmbeddingTable.Output);
        Assert.Equal(input.Nearest("Ġgreen", 5).Select(n => n.Id), output.Nearest("Ġgreen", 5).Select(n => n.Id));
    }

    [Fact]
    public void Shared_prefixes_have_identical_states_and_self_similarity_is_maximal()
    {
        var items = new[]
        {
            new WordInContext("The apple is green.", "apple"),
            new WordInContext("The apple pie is sweet.", "apple"),
            new WordInContext("I ate an apple, then another apple.", "apple", 2),
            new WordInContext("Apple makes the iPhone.", "Apple"),
        };
        var result = ContextualSimilarity.Compare(lenses.Gemma, items);
        Assert.Equal(lenses.Gemma.Config.NumLayers + 1, result.Layers);
        Assert.Equal(" apple", result.TokenTexts[0]);
        for (int l = 0; l < result.Layers; l++)
        {
            // The first two sentences share "The apple": a causal model gives both the same states there.
            Assert.Equal(1.0, result.Raw[l][0, 1], 4);
            for (int i = 0; i < items.Length; i++)
            {
                Assert.Equal(1.0, result.Raw[l][i, i], 5);
                for (int j = 0; j < items.Length; j++)
                {
                    Assert.True(result.Normalized[l][i, i] >= result.Normalized[l][i, j] - 1e-9);
                    Assert.Equal(result.Raw[l][i, j] / result.Baseline[l], result.Normalized[l][i, j], 9);
                }
            }
        }
        Assert.Contains("occurs 1 time", Assert.Throws<ArgumentException>(() =>
            ContextualSimilarity.Compare(lenses.Gemma, [items[0], new WordInContext("The apple is green.", "apple", 2)])).Message);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void The_lens_at_the_last_layer_with_the_final_norm_is_the_models_prediction(string name)
    {
        var lens = lenses.Get(name);
        var ids = lens.Ids("The apple is green. What color is the apple?");
        var result = LogitLens.Run(lens, ids, new LogitLensOptions { TopK = 3, Targets = ["green"] });
        Assert.Equal(lens.Config.NumLayers + 1, result.Top.Length);
        Assert.Equal("embed", result.LayerLabels[0]);
        using var scope = NewDisposeScope();
        using var run = lens.Forward(ids);
        var probs = run.Logits[0].softmax(-1);
        var (values, indices) = probs.topk(3);
        for (int p = 0; p < ids.Length; p++)
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(indices[p, k].item<long>(), result.Top[^1][p][k].Id);
                Assert.Equal(values[p, k].item<float>(), result.Top[^1][p][k].Probability, 5);
            }
        // Target ranks agree with the top lists.
        var green = result.Targets["green"];
        for (int row = 0; row < green.Length; row++)
            for (int p = 0; p < ids.Length; p++)
                Assert.Equal(result.Top[row][p][0].Id == LogitLens.TargetId(lens, "green"), green[row][p].Rank == 1);

        var raw = LogitLens.Run(lens, ids, new LogitLensOptions { TopK = 3, ApplyFinalNorm = false, LastPositionOnly = true });
        Assert.Single(raw.PositionLabels);
        Assert.False(raw.FinalNormApplied);
        Assert.NotEqual(result.Top[^1][^1][0].Probability, raw.Top[^1][0][0].Probability);
    }

    [Fact]
    public void Attention_maps_are_the_forward_attentions_with_summaries()
    {
        var lens = lenses.Gemma;
        using var maps = AttentionMaps.Run(lens, "The apple is green. What color is the apple?");
        Assert.Equal([lens.Config.NumLayers, lens.Config.NumHeads, maps.Tokens.Count, maps.Tokens.Count], maps.Probabilities.shape);
        using (var sums = maps.Probabilities.sum(-1))
            TensorAssert.Close(sums, ones_like(sums), 1e-5, 0, "rows sum to 1");
        int color = maps.Locate("color"), green = maps.Locate("green");
        var top = maps.TopHeads(color, green, k: 3);
        Assert.Equal(3, top.Count);
        var best = maps.Head(top[0].Layer, top[0].Head)[color, green];
        Assert.Equal(best, top[0].Score, 9);
        Assert.True(top[0].Score >= top[1].Score && top[1].Score >= top[2].Score);
        var sink = maps.FirstTokenAttention();
        Assert.All(Enumerable.Range(0, lens.Config.NumLayers), l => Assert.InRange(sink[l, 0], 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => maps.Head(lens.Config.NumLayers, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => maps.Head(0, lens.Config.NumHeads));
    }

    [Fact]
    public void Neurons_are_the_mlp_activations_and_their_maxima()
    {
        var lens = lenses.Llama;
        const string text = "The apple is green.";
        var (activations, tokens) = Neurons.Activations(lens, text, 1);
        using (activations)
        {
            Assert.Equal([tokens.Count, lens.Config.IntermediateSize], activations.shape);
            var top = Neurons.Top(lens, text, 1, k: 4);
            Assert.Equal(activations.max().item<float>(), top[0].Activation, 5);
            Assert.Equal(activations[top[0].Position, top[0].Neuron].item<float>(), top[0].Activation, 6);
            var over = Neurons.TopTokens(lens, [text, "今天天氣真好"], 1, top[0].Neuron, k: 3);
            Assert.True(over[0].Activation >= top[0].Activation - 1e-6);
            Assert.True(over.Zip(over.Skip(1)).All(p => p.First.Activation >= p.Second.Activation));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Neurons.Top(lens, text, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Neurons.TopTokens(lens, [text], 0, lens.Config.IntermediateSize));
    }

    [Fact]
    public void Pca_finds_the_main_axis_deterministically()
    {
        using var scope = NewDisposeScope();
        var t = linspace(-3, 3, 50).unsqueeze(1);
        var axis = tensor(new float[] { 3, 4, 0 }) / 5;
        var noise = randn(50, 3, generator: new TorchSharp.torch.Generator(1)) * 0.01;
        var points = t * axis + noise + tensor(new float[] { 10, -2, 5 });
        var result = Pca.Fit(points, 2);
        Assert.True(result.ExplainedVarianceRatio[0] > 0.999);
        Assert.Equal(0.6, Math.Abs(result.Components[0, 0]), 2);
        Assert.Equal(0.8, Math.Abs(result.Components[0, 1]), 2);
        Assert.True(result.Components[0, 1] > 0, "largest coordinate made positive");
        var again = Pca.Fit(points, 2);
        Assert.Equal(result.Projected[7, 0], again.Projected[7, 0], 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit(points, 4));
    }

    [Fact]
    public void Temperature_sharpens_and_flattens_the_distribution()
    {
        var lens = lenses.Gemma;
        var ids = lens.Ids("The apple is");
        var d = NextToken.AtTemperatures(lens, ids, [0.5, 1.0, 2.0], k: 5);
        using var scope = NewDisposeScope();
        using var run = lens.Forward(ids);
        var probs = run.Logits[0, -1].softmax(0);
        Assert.Equal(probs.max().item<float>(), d[1].Top[0].Probability, 5);
        Assert.True(d[0].Top[0].Probability > d[1].Top[0].Probability && d[1].Top[0].Probability > d[2].Top[0].Probability);
        Assert.True(d[0].Entropy < d[1].Entropy && d[1].Entropy < d[2].Entropy);
        Assert.Equal(d[0].Top[0].Id, d[2].Top[0].Id);
        Assert.Throws<ArgumentOutOfRangeException>(() => NextToken.AtTemperatures(lens, ids, [0.0]));
    }
}
