using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>Embedding neighbours and arithmetic on the fixture models.</summary>
public sealed class EmbeddingSpaceTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
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
}
