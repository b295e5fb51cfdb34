using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>A long prompt's attention taken in blocks of queries (<see cref="Attention.ScoreBlockElements"/>) against the same attention whole.</summary>
public sealed class AttentionBlockTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")] // sliding-window layers too
    public void A_long_prompts_attention_in_blocks_of_queries_is_the_whole_attention(string name)
    {
        var (model, _) = models.Get(name);
        using var scope = NewDisposeScope();
        const int t = 1100;
        // Two prompts through four heads: 9.7M scores a layer, taken in blocks of 476 queries (three blocks).
        Assert.Equal(4, model.Config.NumHeads);
        Assert.True(Attention.ScoreBlockElements < 2L * 4 * t * t);
        var ids = arange(2 * t, dtype: ScalarType.Int64).view(2, t) * 7919 % 5000 + 10;
        var mask = ones([2, t], dtype: ScalarType.Int64);
        mask[1].narrow(0, 0, 37).fill_(0); // the second prompt padded on the left
        var options = new ForwardOptions { Attentions = true, HiddenStates = true, LastPositionLogitsOnly = true, PaddingMask = mask };

        using var blocks = model.Forward(ids, options);
        // A hook on the pattern sees it whole: the queries then go in one block.
        using var whole = model.Forward(ids, options with { Hooks = new HookSet().Add(HookPoints.IsAttentionMap, (_, _) => null) });

        TensorAssert.Identical(whole.Logits, blocks.Logits, "logits");
        for (int layer = 0; layer < model.Config.NumLayers; layer++)
            TensorAssert.Identical(whole.Attentions![layer], blocks.Attentions![layer], $"attention of layer {layer}");
        for (int i = 0; i < whole.HiddenStates!.Count; i++)
            TensorAssert.Identical(whole.HiddenStates[i], blocks.HiddenStates![i], $"hidden state {i}");
    }
}
