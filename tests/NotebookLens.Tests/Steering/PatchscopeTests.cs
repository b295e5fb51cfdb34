using NotebookLens.Loading;
using NotebookLens.Runtime;
using NotebookLens.Generation;
using NotebookLens.Steering;
using NotebookLens.Tests.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Steering;

public sealed class PatchscopeTests(FixtureModels models) : IClassFixture<FixtureModels>
{
    // Not disposed: the model belongs to the class fixture.
    LensModel Lens(string name) => name == "llama"
        ? new LensModel(models.Llama, HfTokenizer.Load(Fixtures.Llama))
        : new LensModel(models.Gemma, HfTokenizer.Load(Fixtures.Gemma));

    static IReadOnlyList<int> Unpatched(LensModel lens, string prompt, int maxNewTokens) =>
        lens.Model.Generate(lens.Tokenizer.Encode(prompt), new GenerationOptions { MaxNewTokens = maxNewTokens, StopTokens = lens.Model.StopTokenIds.Concat(lens.Tokenizer.EosIds).ToHashSet() }).NewIds;

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Patching_the_targets_own_representation_reproduces_its_continuation(string name)
    {
        var lens = Lens(name);
        var target = PatchscopeTarget.Identity;
        var layers = Enumerable.Range(0, lens.Config.NumLayers).ToList();
        var sweep = Patchscope.Sweep(lens, new PatchscopeSource(target.Prompt) { Token = "?" }, layers, new PatchscopeOptions { MaxNewTokens = 6 });
        Assert.Equal(sweep.Source.Ids, sweep.Target.Ids);
        Assert.Equal(sweep.SourcePosition, sweep.TargetPosition);
        var expected = Unpatched(lens, target.Prompt, 6);
        Assert.All(sweep.Results, r => Assert.Equal(expected, r.NewIds));

        // Another prompt's representation does change it somewhere, so the patch does act.
        var other = Patchscope.Sweep(lens, new PatchscopeSource("The Eiffel Tower is in Paris"), layers, new PatchscopeOptions { MaxNewTokens = 6 });
        Assert.Contains(other.Results, r => !r.NewIds.SequenceEqual(expected));
    }

    [Fact]
    public void A_sweep_returns_one_result_per_layer_in_order()
    {
        var lens = Lens("gemma");
        var source = new PatchscopeSource("Apple was founded by Steve Jobs") { Token = "Apple" };
        var sweep = Patchscope.Sweep(lens, source, [5, 0, 3], new PatchscopeOptions { MaxNewTokens = 3 });
        Assert.Equal([5, 0, 3], sweep.Results.Select(r => r.SourceLayer));
        Assert.Equal([5, 0, 3], sweep.Results.Select(r => r.TargetLayer));
        Assert.All(sweep.Results, r => Assert.InRange(r.NewIds.Count, 1, 3));
        Assert.All(sweep.Results, r => Assert.Equal(lens.Tokenizer.Decode(r.NewIds, skipSpecialTokens: true), r.Text));

        var fixedTarget = Patchscope.Sweep(lens, source, [1, 2], new PatchscopeOptions { MaxNewTokens = 2, TargetLayer = 4 });
        Assert.All(fixedTarget.Results, r => Assert.Equal(4, r.TargetLayer));
        Assert.Equal(fixedTarget.Results[1].NewIds, Patchscope.Run(lens, source, 2, new PatchscopeOptions { MaxNewTokens = 2, TargetLayer = 4 }).NewIds);
    }

    [Fact]
    public void Positions_are_found_by_text_or_index()
    {
        var lens = Lens("llama");
        string prompt = "I ate an apple. Apple makes phones: Apple";
        var ids = lens.Tokenizer.Encode(prompt);
        // The last occurrence, and its last token.
        Assert.Equal(ids.Count - 1, Patchscope.Sweep(lens, new PatchscopeSource(prompt) { Token = "Apple" }, [0], new() { MaxNewTokens = 1 }).SourcePosition);
        int phones = Patchscope.Sweep(lens, new PatchscopeSource(prompt) { Token = "phones" }, [0], new() { MaxNewTokens = 1 }).SourcePosition;
        Assert.Equal(" phones", lens.Tokenizer.DisplayText(ids[phones]));
        var longWord = "antidisestablishmentarianism";
        var longIds = lens.Tokenizer.Encode("A word: " + longWord);
        Assert.True(longIds.Count > 5);
        Assert.Equal(longIds.Count - 1, Patchscope.Sweep(lens, new PatchscopeSource("A word: " + longWord + ".") { Token = longWord }, [0], new() { MaxNewTokens = 1 }).SourcePosition);
        Assert.Equal(2, Patchscope.Sweep(lens, new PatchscopeSource(prompt) { Index = -ids.Count + 2 }, [0], new() { MaxNewTokens = 1 }).SourcePosition);

        var target = new PatchscopeTarget("Please briefly introduce X.", "X");
        var sweep = Patchscope.Sweep(lens, new PatchscopeSource(prompt), [1], new() { Target = target, MaxNewTokens = 1 });
        Assert.Equal(" X", sweep.Target.Tokens[sweep.TargetPosition].Text);
    }

    [Fact]
    public void Missing_text_and_out_of_range_layers_or_positions_are_refused()
    {
        var lens = Lens("llama");
        var source = new PatchscopeSource("Apple was founded by Steve Jobs");
        var noToken = Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source with { Token = "Microsoft" }, [0]));
        Assert.Contains("\"Microsoft\" occurs 0 times", noToken.Message);
        var noPlaceholder = Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source, [0], new() { Target = new("Tell me about it", "X") }));
        Assert.Contains("The target prompt: \"X\" occurs 0 times", noPlaceholder.Message);
        var layer = Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source, [0, 2]));
        Assert.Contains("layers 0 .. 1", layer.Message);
        Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source, [-1]));
        Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source, [0], new() { TargetLayer = 5 }));
        Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source with { Index = 100 }, [0]));
        Assert.Throws<LensException>(() => Patchscope.Sweep(lens, source with { Index = -100 }, [0]));
    }

    /// <summary>The Llama fixture's model files in a folder of their own, to add a notebooklens.json to.</summary>
    static string LlamaFolderCopy()
    {
        var folder = Fixtures.TempDir();
        foreach (var file in Directory.GetFiles(Fixtures.Llama).Where(f => !Path.GetFileName(f).StartsWith("golden", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    }

    [Fact]
    public void A_model_that_names_its_own_target_is_patched_there_unless_the_user_says_otherwise()
    {
        var folder = LlamaFolderCopy();
        new ModelDefaults(new PatchscopeDefault("cold = cold, dog = dog, x =", "x", 1)).Save(folder);
        using var own = LensModel.Load(folder);
        var source = new PatchscopeSource("The farmer picked a ripe apple") { Token = "apple" };
        var options = new PatchscopeOptions { MaxNewTokens = 4 };

        var byDefault = Patchscope.Sweep(own, source, [0, 1], options);
        var spelledOut = Patchscope.Sweep(own, source, [0, 1], options with { Target = new("cold = cold, dog = dog, x =", "x"), TargetLayer = 1 });
        Assert.Equal(("cold = cold, dog = dog, x =", "x"), (byDefault.Target.Text, byDefault.Placeholder));
        Assert.Equal([1, 1], byDefault.Results.Select(r => r.TargetLayer));
        Assert.Equal(spelledOut.Results.Select(r => r.NewIds), byDefault.Results.Select(r => r.NewIds));

        // The user's layer with the model's target; the user's target at the source's layers; without the file, the identity prompt.
        Assert.Equal([0, 0], Patchscope.Sweep(own, source, [0, 1], options with { TargetLayer = 0 }).Results.Select(r => r.TargetLayer));
        var users = Patchscope.Sweep(own, source, [0, 1], options with { Target = new("Tell me about X", "X") });
        Assert.Equal(("Tell me about X", "X"), (users.Target.Text, users.Placeholder));
        Assert.Equal([0, 1], users.Results.Select(r => r.TargetLayer));
        var plain = Patchscope.Sweep(Lens("llama"), source, [0, 1], options);
        Assert.Equal((PatchscopeTarget.Identity.Prompt, "?"), (plain.Target.Text, plain.Placeholder));
        Assert.Equal([0, 1], plain.Results.Select(r => r.TargetLayer));
    }

    [Fact]
    public void A_model_folder_with_a_broken_defaults_file_is_refused_at_load_naming_the_file()
    {
        var folder = LlamaFolderCopy();
        File.WriteAllText(Path.Combine(folder, ModelDefaults.FileName), """{"patchscope": {"prompt": "a = b", "placeholder": "x"}}""");
        var e = Assert.ThrowsAny<Exception>(() => LensModel.Load(folder));
        Assert.Contains(ModelDefaults.FileName, e.Message);
    }
}
