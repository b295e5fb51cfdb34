using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Facade;

public sealed class ModelRegistryTests
{
    [Fact]
    public void Models_load_once_by_source_and_options_and_stay_side_by_side()
    {
        using var registry = new ModelRegistry();
        var llama = registry.Load(Fixtures.Llama);
        Assert.Equal("llama3_tiny", llama.Name);
        Assert.Same(llama, registry.Load(Fixtures.Llama));
        var gemma = registry.Load(Fixtures.Gemma, "gemma", new LoadOptions { DType = ScalarType.Float32 });
        Assert.Equal("gemma", registry.Current);
        Assert.Equal(["llama3_tiny", "gemma"], registry.Models.Select(m => m.Name));
        Assert.Equal("float32", gemma.Ref.DType);
        Assert.Same(gemma, registry.Get());
        registry.Use("llama3_tiny");
        Assert.Same(llama, registry.Get());
        Assert.Same(gemma, registry.Get("gemma"));
        Assert.True(llama.MemoryBytes > 0);

        var taken = Assert.Throws<LensException>(() => registry.Load(Fixtures.Gemma, "llama3_tiny"));
        Assert.Equal("name", taken.Setting);
        var missing = Assert.Throws<LensException>(() => registry.Get("mistral"));
        Assert.Equal(LensErrorKind.NotFound, missing.Kind);
        Assert.Contains("llama3_tiny, gemma", missing.Message);

        Assert.True(registry.Unload("llama3_tiny"));
        Assert.False(registry.Unload("llama3_tiny"));
        Assert.Equal("gemma", registry.Current);
        var unloaded = Assert.Throws<LensException>(() => llama.Forward("x"));
        Assert.Equal(LensErrorKind.Unloaded, unloaded.Kind);
        Assert.Contains("\"llama3_tiny\" was unloaded", unloaded.Problem);
        Assert.Contains($"ModelRegistry.Shared.Load(\"{Fixtures.Llama}\", \"llama3_tiny\")", unloaded.Remedy);
    }

    [Fact]
    public void With_nothing_loaded_the_current_model_is_tiny()
    {
        using var registry = new ModelRegistry();
        Assert.Null(registry.Current);
        var tiny = registry.Get();
        Assert.Equal("tiny", tiny.Name);
        Assert.Equal("tiny", tiny.Source);
        Assert.Same(tiny, registry.Get("tiny"));
    }

    [Fact]
    public void An_embedded_model_loads_under_its_variable_name_and_is_found_by_either_name()
    {
        using var registry = new ModelRegistry();
        var gemma = registry.Load("tiny-gemma");
        Assert.Equal(("tiny_gemma", "tiny-gemma", "gemma3_text"), (gemma.Name, gemma.Source, gemma.Config.ModelType));
        Assert.Same(gemma, registry.Get("tiny-gemma"));
        Assert.Same(gemma, registry.Get("tiny_gemma"));
        var tiny = registry.Load("tiny");
        registry.Use("tiny-gemma");
        Assert.Same(gemma, registry.Get());
        Assert.NotSame(tiny, gemma);
    }

    [Theory]
    [InlineData("tiny", "tiny")]
    [InlineData("meta-llama/Llama-3.2-3B-Instruct", "llama_3_2_3b_instruct")]
    [InlineData("google/gemma-3-4b-it@main", "gemma_3_4b_it")]
    [InlineData("/models/3b/", "m3b")]
    public void Default_names_are_identifiers(string source, string name) => Assert.Equal(name, LensModel.DefaultName(source));
}
