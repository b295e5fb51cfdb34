using System.Reflection;
using NotebookLens.Models;
using NotebookLens.Runtime;

namespace NotebookLens.Tests.Facade;

/// <summary>
/// A freed model (disposed, or unloaded by its registry) says so on any use, with how to get it back, instead of
/// failing inside TorchSharp: a notebook's variable still points to it after <c>#!model unload</c>.
/// </summary>
public sealed class UnloadedModelTests
{
    /// <summary>What a freed model still answers: who it was, and being disposed again.</summary>
    static readonly HashSet<string> Allowed = ["get_Name", "get_Source", nameof(ToString), nameof(IDisposable.Dispose)];

    /// <summary>Every public instance member of the façade (its own and TextModel's; property getters included), found by reflection so a new one is covered too.</summary>
    static IEnumerable<MethodInfo> Members() => typeof(LensModel).GetMethods(BindingFlags.Public | BindingFlags.Instance)
        .Where(m => m.DeclaringType != typeof(object) && !Allowed.Contains(m.Name));

    [Fact]
    public void Every_member_of_a_disposed_model_throws_a_lens_exception_that_says_how_to_load_it_again()
    {
        var lens = LensModel.Load(Fixtures.Llama, name: "llama");
        lens.Dispose();
        var members = Members().ToList();
        Assert.True(members.Count > 30, $"only {members.Count} members found");
        foreach (var member in members)
        {
            var method = member.IsGenericMethodDefinition ? member.MakeGenericMethod(member.GetGenericArguments().Select(_ => typeof(object)).ToArray()) : member;
            // Arguments left null or default: the check must come before anything looks at them.
            var args = method.GetParameters().Select(p => p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray();
            Exception? thrown = null;
            try { method.Invoke(lens, args); }
            catch (TargetInvocationException invocation) { thrown = invocation.InnerException; }
            Assert.True(thrown is LensException { Kind: LensErrorKind.Unloaded }, $"{Describe(method)}: {thrown?.ToString() ?? "no exception"}");
            var e = (LensException)thrown!;
            Assert.Equal("The model \"llama\" was unloaded: its weights are freed, so it can no longer be used.", e.Problem);
            Assert.Equal($"Load it again: ModelRegistry.Shared.Load(\"{Fixtures.Llama}\", \"llama\"), or in a notebook #!model load {Fixtures.Llama} --name llama.", e.Remedy);
        }
        Assert.Equal("llama", lens.Name);
        Assert.Equal($"llama: unloaded (from {Fixtures.Llama})", lens.ToString());
        lens.Dispose();
    }

    [Fact]
    public void A_model_the_registry_unloaded_says_so_and_the_registry_loads_it_again()
    {
        using var registry = new ModelRegistry();
        var gemma = registry.Load(Fixtures.Gemma, "gemma");
        Assert.True(registry.Unload("gemma"));
        var e = Assert.Throws<LensException>(() => gemma.LogitLens("The apple"));
        Assert.Equal((LensErrorKind.Unloaded, "model"), (e.Kind, e.Setting));
        Assert.Contains("\"gemma\" was unloaded", e.Message);
        var again = registry.Load(Fixtures.Gemma, "gemma");
        Assert.NotSame(gemma, again);
        Assert.NotEmpty(again.LogitLens("The apple").Top);
    }

    static string Describe(MethodInfo m) => $"{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";
}
