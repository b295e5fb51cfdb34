using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Tests.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Generation;

public sealed class PromptBatchTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    [Theory]
    [InlineData(1, 2)] // [1 2] shared, every prompt keeps one token of its own
    [InlineData(2, 1)] // the shortest prompt keeps two
    [InlineData(3, 0)]
    public void The_shared_prefix_leaves_each_prompt_what_it_must_keep(int keep, int expected)
    {
        IReadOnlyList<IReadOnlyList<int>> prompts = [[1, 2, 3, 4], [1, 2, 5], [1, 2, 6, 7, 8]];
        Assert.Equal(expected, PromptBatch.SharedPrefix(prompts, keep));
        Assert.Equal(2, PromptBatch.SharedPrefix([[1, 2, 3], [1, 2, 3]], 1));
        Assert.Equal(0, PromptBatch.SharedPrefix([[9, 2, 3], [1, 2, 3]], 1));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Batches_after_a_shared_prefix_give_each_prompt_its_logits_alone(string name)
    {
        var (model, _) = models.Get(name);
        int bos = name == "llama" ? 128000 : 2;
        // Three prompts share four tokens; the batch of two left-pads its shorter rest.
        IReadOnlyList<IReadOnlyList<int>> prompts = [[bos, 11, 12, 13, 21, 22, 23], [bos, 11, 12, 13, 31], [bos, 11, 12, 13, 41, 42]];
        using var scope = NewDisposeScope();
        var prefixWidths = new List<long>();
        var restWidths = new List<long>();
        var interventions = new HookSet().Add(HookPoints.ResidPre(0), (x, _) => { prefixWidths.Add(x.shape[1]); return x * 1.25; });
        var probes = new HookSet().Add(HookPoints.ResidPre(0), (x, _) => { restWidths.Add(x.shape[1]); return null; });
        var batched = new Tensor[prompts.Count];
        PromptBatch.Run(model, prompts, 2, interventions, (first, logits) =>
        {
            for (int i = 0; i < logits.shape[0]; i++) batched[first + i] = logits[i].clone().MoveToOuterDisposeScope(); // out of the batch's scope, into this test's
        }, probes: probes);
        // The intervention ran on the prefix once and on each batch's rest; the probe on the rests only.
        Assert.Equal([4L, 3, 2], prefixWidths);
        Assert.Equal([3L, 2], restWidths);
        for (int i = 0; i < prompts.Count; i++)
        {
            using var alone = model.Forward(tensor(prompts[i].Select(t => (long)t).ToArray()), new ForwardOptions { Hooks = interventions });
            TensorAssert.Close(batched[i], alone.Logits[0, -1], 1e-4, 1e-4, $"{name} prompt {i}");
        }
    }
}
