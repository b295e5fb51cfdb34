using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Robustness;

/// <summary>Inputs at the edges: past the context, empty, not valid UTF-16, NaN from a hook. A clear error or a documented behaviour, and the model still works after.</summary>
public sealed class InputEdgeTests : IClassFixture<InputEdgeTests.Tiny>
{
    public sealed class Tiny : IDisposable
    {
        public LensModel Lens { get; } = LensModel.Load("tiny");
        public void Dispose() => Lens.Dispose();
    }

    readonly LensModel _lens;

    public InputEdgeTests(Tiny tiny) => _lens = tiny.Lens;

    int Context => _lens.Config.MaxPositions;

    /// <summary>The last logits of a short prompt, to show a refused input left the model as it was.</summary>
    float[] Probe()
    {
        using var scope = NewDisposeScope();
        using var result = _lens.Forward("The apple is green.");
        return result.Logits[0, -1].to(ScalarType.Float32).data<float>().ToArray();
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_and_the_model_still_works()
    {
        var before = Probe();
        var ids = Enumerable.Repeat(_lens.Prompt("a", addSpecialTokens: false).Ids[0], Context + 1).ToList();
        var e = Assert.Throws<LensException>(() => _lens.Forward(_lens.Prompt(ids)));
        Assert.Equal(LensErrorKind.OutOfRange, e.Kind);
        Assert.Contains($"{Context + 1} positions exceed this model's context of {Context} tokens", e.Message);
        Assert.Equal(before, Probe());
        // Generation refuses it before any of the prompt's chunks runs.
        int passes = 0;
        var count = new HookSet().Add(HookPoints.Embed, (_, _) => { passes++; return null; });
        e = Assert.Throws<LensException>(() => _lens.Generate(_lens.Prompt(ids), new GenerationOptions { MaxNewTokens = 2, Hooks = count }));
        Assert.Contains($"{Context + 1} positions exceed this model's context of {Context} tokens", e.Message);
        Assert.Equal(0, passes);
        // Exactly the context fits.
        using var scope = NewDisposeScope();
        using var full = _lens.Forward(_lens.Prompt(ids.Take(Context)));
        Assert.Equal(Context, full.Logits.shape[1]);
    }

    [Fact]
    public void Generation_ends_when_the_context_is_full()
    {
        int promptLength = Context - 3;
        var prompt = _lens.Prompt(Enumerable.Repeat(_lens.Prompt("a", addSpecialTokens: false).Ids[0], promptLength));
        var output = _lens.Generate(prompt, new GenerationOptions { MaxNewTokens = 10, StopTokens = [] });
        // The prompt and every generated token but the last are fed to the model: together they fill the context.
        Assert.Equal(Context, promptLength + output.NewIds.Count - 1);
        Assert.Equal(FinishReason.ContextFull, output.FinishReason);
        var shorter = _lens.Generate(prompt, new GenerationOptions { MaxNewTokens = 2, StopTokens = [] });
        Assert.Equal(FinishReason.Length, shorter.FinishReason);
        Assert.Equal(output.NewIds.Take(2), shorter.NewIds);
    }

    [Fact]
    public void An_empty_text_is_the_begin_token_alone_and_no_tokens_at_all_is_refused()
    {
        var empty = _lens.Prompt("");
        Assert.Equal(new[] { _lens.Tokenizer.BosId!.Value }, empty.Ids);
        Assert.NotEmpty(_lens.LogitLens(empty).Top);
        var e = Assert.ThrowsAny<ArgumentException>(() => _lens.Forward(_lens.Prompt("", addSpecialTokens: false)));
        Assert.Contains("T > 0", e.Message);
        Assert.NotEmpty(Probe());
    }

    [Fact]
    public void A_lone_surrogate_is_read_as_the_replacement_character_as_utf8_does()
    {
        Assert.Equal(_lens.Prompt("a\uFFFDb").Ids, _lens.Prompt("a\uD800b").Ids);
        Assert.Equal(_lens.Prompt("x\uFFFD").Ids, _lens.Prompt("x\uDC00").Ids);
        using var scope = NewDisposeScope();
        using var result = _lens.Forward("a\uD800b");
        Assert.True(result.Logits.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Nan_or_infinity_from_a_hook_names_the_hook_point_and_layer(double poison)
    {
        var before = Probe();
        var hooks = new HookSet().Add(HookPoints.ResidPost(1), (x, _) => x * Scalars.Of(poison));
        var e = Assert.Throws<InvalidOperationException>(() => _lens.Forward("The apple is green.", new ForwardOptions { Hooks = hooks }));
        Assert.Contains("'blocks.1.hook_resid_post' (layer 1)", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
        // Written in place, not returned: found all the same.
        var inPlace = new HookSet().Add(HookPoints.Neurons(0), (x, _) => { x.fill_(Scalars.Of(poison)); return null; });
        Assert.Contains("'blocks.0.mlp.hook_post' (layer 0)", Assert.Throws<InvalidOperationException>(() => _lens.Forward("Hi", new ForwardOptions { Hooks = inPlace })).Message);
        Assert.Equal(before, Probe());
    }
}
