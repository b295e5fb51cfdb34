using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tests.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>A pass's kept hidden states and attention maps in its huge-page blocks (<see cref="KeptOutputs"/>), against what the hooks saw.</summary>
public sealed class KeptOutputsTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    /// <summary>1,024 tokens through four heads: fp32 maps of 4M elements a layer, 16 MB (the attention takes them whole).</summary>
    const int Tokens = 1024;

    static Tensor Ids(int t) => arange(t, dtype: ScalarType.Int64) * 7919 % 5000 + 10;

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")] // sliding-window layers and the sandwich norms
    public void Each_kept_output_is_the_activation_its_hook_saw_in_a_slice_of_its_own(string name)
    {
        var (model, _) = models.Get(name);
        using var scope = NewDisposeScope();
        int layers = model.Config.NumLayers;
        var seen = new Dictionary<string, Tensor>();
        var hooks = new HookSet().Add(n => n is HookPoints.Embed or HookPoints.FinalNorm || n.EndsWith(HookPoints.Block.ResidPost) || n.EndsWith(HookPoints.Block.Pattern), (activation, context) =>
        {
            // The activation itself, taken out of the pass's scope: the pass must not dispose what a hook holds.
            seen[context.Name] = activation.DetachFromDisposeScope();
            return null;
        });
        var options = new ForwardOptions { HiddenStates = true, Attentions = true, LastPositionLogitsOnly = true };

        using var hooked = model.Forward(Ids(Tokens), options with { Hooks = hooks });
        using var plain = model.Forward(Ids(Tokens), options);
        try
        {
            TensorAssert.Identical(seen[HookPoints.Embed], hooked.HiddenStates![0], "hidden state 0");
            for (int layer = 0; layer < layers - 1; layer++)
                TensorAssert.Identical(seen[HookPoints.ResidPost(layer)], hooked.HiddenStates[layer + 1], $"hidden state {layer + 1}");
            TensorAssert.Identical(seen[HookPoints.ResidPost(layers - 1)], hooked.PrenormLast!, "the last layer's output");
            TensorAssert.Identical(seen[HookPoints.FinalNorm], hooked.HiddenStates[layers], "the final norm's output");
            for (int layer = 0; layer < layers; layer++)
                TensorAssert.Identical(seen[HookPoints.Pattern(layer)], hooked.Attentions![layer], $"attention of layer {layer}");

            // Without hooks the activations the copies come from are freed at once: the same values.
            TensorAssert.Identical(hooked.PrenormLast!, plain.PrenormLast!, "the last layer's output without hooks");
            for (int i = 0; i <= layers; i++) TensorAssert.Identical(hooked.HiddenStates[i], plain.HiddenStates![i], $"hidden state {i} without hooks");
            for (int layer = 0; layer < layers; layer++) TensorAssert.Identical(hooked.Attentions![layer], plain.Attentions![layer], $"attention of layer {layer} without hooks");

            if (!OperatingSystem.IsLinux()) return;
            // One block (the model computes in fp32, as the maps are kept): every output in it, none sharing memory.
            var kept = plain.HiddenStates!.Append(plain.PrenormLast!).Concat(plain.Attentions!).ToList();
            var block = HugePagesTests.Mapping.Of(kept[0])!;
            Assert.Contains("hg", block.Flags);
            var spans = kept.Select(t => (Start: HugePagesTests.Mapping.AddressOf(t), Bytes: t.numel() * 4)).OrderBy(s => s.Start).ToList();
            foreach (var span in spans) Assert.Equal(block.Start, HugePagesTests.Mapping.Containing(span.Start)!.Start);
            for (int i = 1; i < spans.Count; i++) Assert.True(spans[i - 1].Start + spans[i - 1].Bytes <= spans[i].Start, "two kept outputs overlap");
        }
        finally
        {
            foreach (var t in seen.Values) t.Dispose();
        }
    }

    [Fact]
    public void A_pass_that_records_gradients_keeps_libtorchs_tensors()
    {
        using var scope = NewDisposeScope();
        var options = new ForwardOptions { HiddenStates = true, Attentions = true, LastPositionLogitsOnly = true, RecordGradients = true };
        // Training's passes (the logit-lens loss reads the hidden states): copies into a block would be steps of the graph.
        if (!OperatingSystem.IsLinux()) return;
        using var result = models.Llama.Forward(Ids(Tokens), options);
        Assert.DoesNotContain("hg", HugePagesTests.Mapping.Of(result.HiddenStates![1])?.Flags ?? []);
        Assert.DoesNotContain("hg", HugePagesTests.Mapping.Of(result.Attentions![0])?.Flags ?? []);
    }
}

/// <summary>The blocks' life, counted over the process's blocks: alone, so no other test maps or frees one meanwhile.</summary>
[Collection(nameof(Robustness.AloneCollection))]
public sealed class KeptOutputsLifetimeTests
{
    public KeptOutputsLifetimeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void A_bf16_pass_maps_a_block_per_dtype_and_each_goes_with_its_last_slice()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var model = LanguageModel.Load(Fixtures.Llama); // bf16: hidden states in bf16, maps in fp32
        int live = HugePages.Live;
        var result = model.Forward(arange(1024, dtype: ScalarType.Int64) + 10, new ForwardOptions { HiddenStates = true, Attentions = true, LastPositionLogitsOnly = true });
        Assert.Equal(live + 3, HugePages.Live); // and the last position's logits (256 KB: HugePages.LogitsMinBytes)
        Assert.Equal(ScalarType.BFloat16, result.HiddenStates![1].dtype);
        Assert.Contains("hg", HugePagesTests.Mapping.Of(result.HiddenStates[1])!.Flags);

        using var held = result.HiddenStates[1].alias(); // a view the caller keeps past the result
        nint maps = HugePagesTests.Mapping.AddressOf(result.Attentions![0]);
        using var linger = new LingerFor(TimeSpan.Zero); // nothing parked for a next pass: a block goes back with its last slice
        result.Dispose();
        Assert.Equal(live + 1, HugePages.Live);
        Assert.Null(HugePagesTests.Mapping.Containing(maps)); // the maps' block handed back
        Assert.True(held.isfinite().all().item<bool>());
        held.Dispose();
        Assert.Equal(live, HugePages.Live);
    }
}
