using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
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
        Assert.Throws<LensException>(() => EmbeddingSpace.ParseExpression("- cold"));
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
        var result = lenses.Gemma.Similarity(items);
        Assert.Equal(lenses.Gemma.Config.NumLayers + 1, result.Layers);
        Assert.Equal(" apple", result.TokenTexts[0]);
        Assert.Equal(lenses.Gemma.Ref, result.Model);
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
        Assert.Contains("occurs 1 time", Assert.Throws<LensException>(() =>
            lenses.Gemma.Similarity([items[0], new WordInContext("The apple is green.", "apple", 2)])).Message);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Similarity_and_its_baseline_match_cosines_computed_by_hand(string name)
    {
        var lens = lenses.Get(name);
        string[] sentences = ["The apple is green.", "Apple makes phones."];
        var result = lens.Similarity("pple", sentences);
        // Independent computation: every hidden state as doubles, cosines written out.
        var states = sentences.Select(s => (Prompt: lens.Prompt(s), Hidden: HiddenAsDoubles(lens, s))).ToList();
        for (int l = 0; l < result.Layers; l++)
        {
            var pool = states.SelectMany(s => s.Prompt.Tokens.Where(t => !t.Special).Select(t => s.Hidden[l][t.Index])).ToList();
            double sum = 0;
            int pairs = 0;
            for (int i = 0; i < pool.Count; i++)
                for (int j = 0; j < pool.Count; j++)
                    if (i != j) { sum += Cosine(pool[i], pool[j]); pairs++; }
            Assert.Equal(sum / pairs, result.Baseline[l], 4);
            var a = states[0].Hidden[l][states[0].Prompt.Locate("pple")];
            var b = states[1].Hidden[l][states[1].Prompt.Locate("pple")];
            Assert.Equal(Cosine(a, b), result.Raw[l][0, 1], 4);
            Assert.Equal(Cosine(a, b) / (sum / pairs), result.Normalized[l][0, 1], 3);
        }
    }

    static double[][][] HiddenAsDoubles(LensModel lens, string text)
    {
        using var scope = NewDisposeScope();
        var run = lens.Forward(text, new ForwardOptions { HiddenStates = true });
        return run.HiddenStates!.Select(h =>
        {
            var x = h[0].to(ScalarType.Float64);
            long d = x.shape[1];
            var flat = x.contiguous().data<double>().ToArray();
            return Enumerable.Range(0, (int)x.shape[0]).Select(t => flat.AsSpan((int)(t * d), (int)d).ToArray()).ToArray();
        }).ToArray();
    }

    static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void The_lens_at_the_last_layer_with_the_final_norm_is_the_models_prediction(string name)
    {
        var lens = lenses.Get(name);
        var prompt = lens.Prompt("The apple is green. What color is the apple?");
        var result = lens.LogitLens(prompt, new LogitLensOptions { TopK = 3, Targets = ["green"] });
        Assert.Equal(lens.Config.NumLayers + 1, result.Top.Length);
        Assert.Equal("embed", result.LayerLabels[0]);
        Assert.Same(prompt, result.Prompt);
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt);
        var probs = run.Logits[0].softmax(-1);
        var (values, indices) = probs.topk(3);
        for (int p = 0; p < prompt.Count; p++)
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(indices[p, k].item<long>(), result.Top[^1][p][k].Id);
                Assert.Equal(values[p, k].item<float>(), result.Top[^1][p][k].Probability, 5);
            }
        // Target ranks agree with the top lists.
        var green = result.Targets["green"];
        for (int row = 0; row < green.Length; row++)
            for (int p = 0; p < prompt.Count; p++)
                Assert.Equal(result.Top[row][p][0].Id == lens.TokenId("green"), green[row][p].Rank == 1);

        var raw = lens.LogitLens(prompt, new LogitLensOptions { TopK = 3, ApplyFinalNorm = false, LastPositionOnly = true });
        Assert.Single(raw.PositionLabels);
        Assert.False(raw.FinalNormApplied);
        Assert.NotEqual(result.Top[^1][^1][0].Probability, raw.Top[^1][0][0].Probability);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Every_lens_row_is_the_final_norm_and_head_written_out_by_hand(string name)
    {
        var lens = lenses.Get(name);
        var prompt = lens.Prompt("今天天氣真");
        var result = lens.LogitLens(prompt, new LogitLensOptions { TopK = 2, LastPositionOnly = true });
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true });
        // Rows: hidden_states[0 .. L-1] and the raw output of the last layer (hidden_states[L] is already normalised).
        var rows = run.HiddenStates!.Take(lens.Config.NumLayers).Append(run.PrenormLast!).ToList();
        var weight = lens.Weight("model.norm.weight").to(ScalarType.Float64);
        var scale = lens.Config.ModelType.StartsWith("gemma") ? weight + 1 : weight;
        var head = lens.Model.LmHead.to(ScalarType.Float64);
        for (int row = 0; row < rows.Count; row++)
        {
            var x = rows[row][0, -1].to(ScalarType.Float64);
            var normed = x / (x.pow(2).mean() + lens.Config.RmsNormEps).sqrt() * scale;
            var p = head.matmul(normed).softmax(0);
            var (values, indices) = p.topk(2);
            Assert.Equal(indices[0].item<long>(), result.Top[row][0][0].Id);
            Assert.Equal(values[0].item<double>(), result.Top[row][0][0].Probability, 4);
        }
    }

    [Fact]
    public void Attention_maps_are_the_forward_attentions_with_summaries()
    {
        var lens = lenses.Gemma;
        var maps = lens.Attention("The apple is green. What color is the apple?");
        int t = maps.Tokens;
        Assert.Equal(lens.Config.NumLayers * lens.Config.NumHeads, maps.Maps.Count);
        using var scope = NewDisposeScope();
        var run = lens.Forward(maps.Prompt, new ForwardOptions { Attentions = true });
        for (int l = 0; l < maps.Layers; l++)
            for (int h = 0; h < maps.Heads; h++)
            {
                var expected = run.Attentions![l][0, h].to(ScalarType.Float64).data<double>().ToArray();
                var head = maps.Head(l, h);
                for (int q = 0; q < t; q++)
                    for (int k = 0; k < t; k++) Assert.Equal(expected[q * t + k], head[q, k], 6);
                // The first-token attention is the mean of column 0 over the queries after the first.
                double sink = Enumerable.Range(1, t - 1).Average(q => expected[q * t]);
                Assert.Equal(sink, maps.FirstTokenAttention()[l, h], 6);
            }
        int color = maps.Prompt.Locate("color"), green = maps.Prompt.Locate("green");
        var top = maps.TopHeads("color", "green", k: 3);
        var best = Enumerable.Range(0, maps.Layers * maps.Heads).MaxBy(i => maps.Head(i / maps.Heads, i % maps.Heads)[color, green]);
        Assert.Equal((best / maps.Heads, best % maps.Heads), (top[0].Layer, top[0].Head));
        Assert.Equal(maps.Head(top[0].Layer, top[0].Head)[color, green], top[0].Score, 9);
        Assert.True(top[0].Score >= top[1].Score && top[1].Score >= top[2].Score);
        Assert.Equal(LensErrorKind.OutOfRange, Assert.Throws<LensException>(() => maps.Head(lens.Config.NumLayers, 0)).Kind);
        Assert.Equal("head", Assert.Throws<LensException>(() => maps.Head(0, lens.Config.NumHeads)).Setting);
    }

    [Fact]
    public void Neurons_are_the_mlp_activations_and_their_maxima()
    {
        var lens = lenses.Llama;
        var prompt = lens.Prompt("The apple is green.");
        using var scope = NewDisposeScope();
        var activations = Neurons.Activations(lens, prompt, 1);
        Assert.Equal([prompt.Count, lens.Config.IntermediateSize], activations.shape);
        // Independent: act(gate) * up from the cached MLP input through the layer's own weights.
        var (_, cache) = lens.RunWithCache(prompt, CacheOptions.Of(HookPoints.ResidMid(1)));
        var resid = cache[HookPoints.ResidMid(1)][0].to(ScalarType.Float64);
        var norm = lens.Weight("model.layers.1.post_attention_layernorm.weight").to(ScalarType.Float64);
        var x = resid / (resid.pow(2).mean([1], keepdim: true) + lens.Config.RmsNormEps).sqrt() * norm;
        var gate = x.matmul(lens.Weight("model.layers.1.mlp.gate_proj.weight").to(ScalarType.Float64).t());
        var up = x.matmul(lens.Weight("model.layers.1.mlp.up_proj.weight").to(ScalarType.Float64).t());
        TensorAssert.Close(activations.to(ScalarType.Float64), nn.functional.silu(gate) * up, 1e-4, 1e-3, "act(gate) * up");

        var top = lens.Neurons(prompt, 1, k: 4);
        Assert.Equal(activations.max().item<float>(), top.Activations[0].Activation, 5);
        Assert.Equal(activations[top.Activations[0].Position, top.Activations[0].Neuron].item<float>(), top.Activations[0].Activation, 6);
        var over = lens.NeuronTokens(1, top.Activations[0].Neuron, ["The apple is green.", "今天天氣真好"], k: 3);
        Assert.True(over.Activations[0].Activation >= top.Activations[0].Activation - 1e-6);
        Assert.True(over.Activations.Zip(over.Activations.Skip(1)).All(p => p.First.Activation >= p.Second.Activation));
        Assert.Throws<LensException>(() => lens.Neurons(prompt, 5));
        Assert.Throws<LensException>(() => lens.NeuronTokens(0, lens.Config.IntermediateSize, ["x"]));
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
        // Coordinates are the centred points on the axes.
        var mean = points.mean([0]);
        for (int i = 0; i < 50; i += 7)
        {
            var centred = (points[i] - mean).to(ScalarType.Float64).data<double>().ToArray();
            for (int c = 0; c < 2; c++)
                Assert.Equal(Enumerable.Range(0, 3).Sum(d => centred[d] * result.Components[c, d]), result.Projected[i, c], 5);
        }
        var again = Pca.Fit(points, 2);
        Assert.Equal(result.Projected[7, 0], again.Projected[7, 0], 9);
        Assert.Throws<LensException>(() => Pca.Fit(points, 4));
    }

    [Fact]
    public void Pca_of_hidden_states_projects_the_words_vectors()
    {
        var lens = lenses.Llama;
        string[] texts = ["I ate an apple", "Apple makes phones", "A red apple fell"];
        var result = lens.Pca(2, texts, word: "pple");
        Assert.Equal(texts, result.Labels);
        Assert.Equal(2, result.Layer);
        Assert.Equal(3, result.Projected.RowCount);
        // Distances between points are preserved up to the dropped component: with 3 points and 2 components, exactly.
        var vectors = texts.Select(t => HiddenAsDoubles(lens, t)[2][lens.Prompt(t).Locate("pple")]).ToList();
        double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                Assert.Equal(Distance(vectors[i], vectors[j]), Distance(result.Projected.Values[i], result.Projected.Values[j]), 3);
    }

    [Fact]
    public void Temperature_sharpens_and_flattens_the_distribution()
    {
        var lens = lenses.Gemma;
        var prompt = lens.Prompt("The apple is");
        var d = lens.Temperatures(prompt, 0.5, 1.0, 2.0).Distributions;
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt);
        var logits = run.Logits[0, -1].to(ScalarType.Float64).data<double>().ToArray();
        foreach (var dist in d)
        {
            // softmax(logits / T) written out.
            var scaled = logits.Select(l => l / dist.Temperature).ToArray();
            double max = scaled.Max(), z = scaled.Sum(v => Math.Exp(v - max));
            Assert.Equal(Math.Exp(scaled[dist.Top[0].Id] - max) / z, dist.Top[0].Probability, 5);
            double entropy = -scaled.Sum(v => Math.Exp(v - max) / z * (v - max - Math.Log(z)));
            Assert.Equal(entropy, dist.Entropy, 3);
        }
        Assert.True(d[0].Top[0].Probability > d[1].Top[0].Probability && d[1].Top[0].Probability > d[2].Top[0].Probability);
        Assert.Equal(d[0].Top[0].Id, d[2].Top[0].Id);
        Assert.Throws<LensException>(() => lens.Temperatures(prompt, 0.0));
    }
}
