using System.Reflection;
using NotebookLens.Models;
using TorchSharp;

namespace NotebookLens.Tests.Architecture;

/// <summary>What a notebook user sees of the core: not the engine's parts, and no name that clashes with TorchSharp's in a cell that imports both.</summary>
public class PublicSurfaceTests
{
    static readonly Assembly Core = typeof(LanguageModel).Assembly;

    /// <summary>The engine's working parts and the runtime's helpers: used inside the core only (weights are reached by name, activations by hook point).</summary>
    [Theory]
    [InlineData("NotebookLens.Models.ForwardContext")]
    [InlineData("NotebookLens.Models.LayerHookNames")]
    [InlineData("NotebookLens.Models.RopeTables")]
    [InlineData("NotebookLens.Models.RotaryEmbedding")]
    [InlineData("NotebookLens.Models.AttentionMask")]
    [InlineData("NotebookLens.Models.DecoderBlock")]
    [InlineData("NotebookLens.Models.Attention")]
    [InlineData("NotebookLens.Models.GatedMlp")]
    [InlineData("NotebookLens.Models.RmsNorm")]
    [InlineData("NotebookLens.Models.Linear")]
    [InlineData("NotebookLens.Models.ParameterNameComparer")]
    [InlineData("NotebookLens.Runtime.Scalars")]
    [InlineData("NotebookLens.Runtime.MemoryCheck")]
    public void Engine_internals_are_not_public(string name)
    {
        var type = Core.GetType(name, throwOnError: true)!;
        Assert.False(type.IsVisible, $"{name} is public; it is an engine internal.");
    }

    [Fact]
    public void Language_models_are_made_by_the_core_only()
    {
        // A subclass outside the core would need the internal block types; its constructor says so.
        var constructors = typeof(LanguageModel).GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.NotEmpty(constructors);
        Assert.All(constructors, c => Assert.True(c.IsAssembly || c.IsFamilyAndAssembly || c.IsPrivate, $"{c} is visible outside the core."));
        Assert.DoesNotContain(typeof(LanguageModel).GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly),
            m => m is MethodBase { IsFamily: true } or MethodBase { IsFamilyOrAssembly: true } or PropertyInfo { GetMethod.IsFamily: true });
    }

    [Fact]
    public void No_public_type_shares_a_name_with_a_TorchSharp_type_a_cell_imports()
    {
        // A cell has `using TorchSharp; using static TorchSharp.torch;` (so torch's nested types) and often TorchSharp.Modules.
        var torchNames = typeof(torch).Assembly.GetExportedTypes()
            .Where(t => t.Namespace is "TorchSharp" or "TorchSharp.Modules")
            .Select(t => SimpleName(t.Name))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("Linear", torchNames); // the reader sees TorchSharp's types
        var clashes = Core.GetExportedTypes().Where(t => torchNames.Contains(SimpleName(t.Name))).Select(t => t.FullName).ToList();
        Assert.True(clashes.Count == 0, "Public types named like TorchSharp's: " + string.Join(", ", clashes));
    }

    static string SimpleName(string name) => name.Split('`')[0];
}
