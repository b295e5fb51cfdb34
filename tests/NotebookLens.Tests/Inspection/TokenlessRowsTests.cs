using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>
/// Gemma-3-4B's embedding table has 262,208 rows for its tokenizer's 262,145 tokens: the last rows are padding, and a
/// forward pass scores them like any other. A model whose padding row wins must still generate, predict and list
/// neighbours: the gemma3-tiny fixture padded to 262,208 rows, one of them a scaled copy of the fixture's own top
/// prediction, so it wins the next token and is that token's nearest neighbour.
/// </summary>
public sealed class TokenlessRowsTests : IDisposable
{
    const int Rows = 262_208, Padding = 262_150;
    const string Text = Prompts.Colour;

    readonly LensModel _lens;
    readonly int _top;

    public TokenlessRowsTests()
    {
        using var original = LensModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });
        using (var scope = NewDisposeScope())
        {
            var logits = original.Forward(Text, new ForwardOptions { LastPositionLogitsOnly = true }).Logits[0, 0];
            _top = (int)logits.argmax().item<long>();
            Assert.True(logits[_top].item<float>() > 0, "the padding row wins only if the top logit is positive");
        }
        using var builder = new CheckpointBuilder(Fixtures.Gemma);
        var embeddings = builder.Tensors["model.embed_tokens.weight"];
        var padding = zeros([Rows - embeddings.shape[0], embeddings.shape[1]], dtype: embeddings.dtype);
        padding[Padding - embeddings.shape[0]] = embeddings[_top] * 10;
        builder.Tensors["model.embed_tokens.weight"] = cat([embeddings, padding]);
        builder.Config["vocab_size"] = Rows;
        var dir = builder.Write();
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(Fixtures.Gemma, file), Path.Combine(dir, file));
        _lens = LensModel.Load(dir, new LoadOptions { DType = ScalarType.Float32 });
        Assert.Null(_lens.Tokenizer.IdToToken(Padding));
    }

    [Fact]
    public void A_tokenless_row_is_labelled_with_its_id()
    {
        Assert.Equal($"⟨id {Padding}: no token⟩", _lens.TokenText(Padding));
        Assert.Equal(_lens.Tokenizer.DisplayText(_top), _lens.TokenText(_top));
        // Views tell the label from token text.
        Assert.True(HfTokenizer.IsNoTokenLabel(_lens.TokenText(Padding)));
        Assert.All(new[] { _lens.TokenText(_top), "⟨id x: no token⟩", "⟨id -1: no token⟩", "⟨id 5: no token⟩ ", " ⟨id 5: no token⟩", "⟨id : no token⟩" },
            text => Assert.False(HfTokenizer.IsNoTokenLabel(text), text));
        // Outside the model's rows too, an id is a mistake, as before.
        Assert.Throws<ArgumentOutOfRangeException>(() => _lens.TokenText(Rows));
        Assert.Throws<ArgumentOutOfRangeException>(() => _lens.Decode([1, Rows]));
    }

    [Fact]
    public void Generation_through_a_tokenless_row_decodes_it_to_nothing()
    {
        var output = _lens.Generate(Text, new GenerationOptions { MaxNewTokens = 3, StopTokens = [] });
        Assert.Equal(Padding, output.NewIds[0]);
        // transformers' decode skips ids its tokenizer has no token for.
        Assert.Equal(_lens.Tokenizer.Decode(output.NewIds.Where(id => id != Padding), skipSpecialTokens: true), output.Text);
    }

    [Fact]
    public void A_prompt_of_ids_takes_a_tokenless_row_and_runs()
    {
        var start = _lens.Prompt(Text);
        var prompt = _lens.Prompt([.. start.Ids, Padding]);
        Assert.Equal($"⟨id {Padding}: no token⟩", prompt.Tokens[^1].Text);
        Assert.Equal((prompt.Tokens[^2].End, prompt.Text.Length), (prompt.Tokens[^1].Start, prompt.Tokens[^1].End));
        // The row is the top token's embedding times ten, rounded to the fixture's bf16 (relative 2^-8): the pass reads it
        // as the last position's input.
        using var scope = NewDisposeScope();
        var padded = _lens.Forward(prompt, new ForwardOptions { HiddenStates = true }).HiddenStates![0][0, ^1];
        var top = _lens.Forward(_lens.Prompt([.. start.Ids, _top]), new ForwardOptions { HiddenStates = true }).HiddenStates![0][0, ^1];
        TensorAssert.Close(padded, top * 10, 1e-5, 1.0 / 256, "the tokenless row's embedding");
        var error = Assert.Throws<NotebookLens.Runtime.LensException>(() => _lens.Prompt([1, Rows]));
        Assert.Contains($"0 .. {Rows - 1}", error.Message);
    }

    [Fact]
    public void Predictions_and_the_logit_lens_show_the_tokenless_row()
    {
        var next = _lens.Temperatures(Text, 1.0).Distributions[0].Top[0];
        Assert.Equal((Padding, $"⟨id {Padding}: no token⟩"), (next.Id, next.Text));
        var lens = _lens.LogitLens(Text);
        var last = lens.Top[^1][^1][0];
        Assert.Equal((Padding, $"⟨id {Padding}: no token⟩"), (last.Id, last.Text));
    }

    [Fact]
    public void A_scaled_copy_of_a_token_is_its_nearest_neighbour()
    {
        var neighbours = _lens.Neighbors(_lens.Tokenizer.IdToToken(_top)!, k: 2).Neighbors;
        Assert.Equal([_top, Padding], neighbours.Select(n => n.Id).Order());
        var copy = neighbours.Single(n => n.Id == Padding);
        Assert.Equal($"⟨id {Padding}: no token⟩", copy.Text);
        Assert.Equal(1.0, copy.Similarity, 1e-5);
    }

    public void Dispose() => _lens.Dispose();
}
