using System.Reflection;
using NotebookLens.Models;

namespace NotebookLens.Tests.Architecture;

/// <summary>
/// The core's namespaces form layers that depend one way, read from the compiled core: the façade (<c>NotebookLens</c>,
/// <see cref="LensModel"/>) uses the analyses (Inspection, Steering, Generation), they use the engine (Models), and the
/// engine uses only the foundations (Loading, Runtime, Tokenization). No namespace cycle anywhere.
/// </summary>
public class LayeringTests
{
    static readonly Assembly Core = typeof(LanguageModel).Assembly;

    /// <summary>The layer of each core namespace: a namespace may use namespaces of its own layer (without a cycle) and of lower ones.</summary>
    static readonly Dictionary<string, int> Layers = new(StringComparer.Ordinal)
    {
        ["NotebookLens"] = 3,
        ["NotebookLens.Inspection"] = 2,
        ["NotebookLens.Steering"] = 2,
        ["NotebookLens.Generation"] = 2,
        ["NotebookLens.Models"] = 1,
        ["NotebookLens.Loading"] = 0,
        ["NotebookLens.Runtime"] = 0,
        ["NotebookLens.Tokenization"] = 0,
    };

    static bool IsOurs(string ns) => ns == "NotebookLens" || ns.StartsWith("NotebookLens.", StringComparison.Ordinal);

    static Dictionary<string, Dictionary<string, string>> Graph() => TypeDependencies.NamespaceGraph(Core, IsOurs);

    [Fact]
    public void Every_core_namespace_has_a_layer()
    {
        var unplaced = Core.GetTypes().Select(t => t.Namespace).OfType<string>().Where(IsOurs).Distinct()
            .Where(ns => !Layers.ContainsKey(ns)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unplaced.Count == 0, $"Namespaces without a layer (add them to {nameof(Layers)}): {string.Join(", ", unplaced)}");
    }

    [Fact]
    public void Core_namespaces_have_no_cycle()
    {
        var graph = Graph();
        var cycle = TypeDependencies.FindCycle(graph);
        Assert.True(cycle is null, cycle is null ? "" :
            "Namespace cycle: " + string.Join(" -> ", cycle) + ". Uses: " +
            string.Join("; ", cycle.Zip(cycle.Skip(1)).Select(e => graph[e.First][e.Second])));
    }

    [Fact]
    public void Dependencies_point_down_from_the_facade_to_the_engine()
    {
        var upward = Graph()
            .SelectMany(from => from.Value.Select(to => (From: from.Key, To: to.Key, Evidence: to.Value)))
            .Where(e => Layers.ContainsKey(e.From) && Layers.ContainsKey(e.To) && Layers[e.To] > Layers[e.From])
            .Select(e => $"{e.From} uses {e.To} ({e.Evidence})")
            .ToList();
        Assert.True(upward.Count == 0, "Uses of a higher layer:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void The_engine_is_used_by_the_analyses_and_uses_the_foundations()
    {
        // Known uses, so a reader that sees nothing cannot pass the tests above.
        var graph = Graph();
        Assert.Contains("NotebookLens.Loading", graph["NotebookLens.Models"].Keys);   // LanguageModel resolves and opens checkpoints
        Assert.Contains("NotebookLens.Models", graph["NotebookLens.Steering"].Keys);  // interventions are hook sets
        Assert.Contains("NotebookLens.Models", graph["NotebookLens.Generation"].Keys); // generation runs the KV cache
        Assert.Contains("NotebookLens.Models", graph["NotebookLens"].Keys);           // the façade holds the model
        Assert.Contains("NotebookLens.Inspection", graph["NotebookLens"].Keys);       // and offers the analyses (lens.LogitLens(...))
    }

    [Fact]
    public void The_reader_counts_uses_in_lambdas_and_not_names_in_strings()
    {
        var graph = TypeDependencies.NamespaceGraph(typeof(LayeringTests).Assembly,
            ns => ns.StartsWith(typeof(Samples.Upper.UsesInLambda).Namespace![..^".Upper".Length], StringComparison.Ordinal));
        Assert.Equal(["NotebookLens.Tests.Architecture.Samples.Lower"], graph["NotebookLens.Tests.Architecture.Samples.Upper"].Keys);
        Assert.False(graph.TryGetValue("NotebookLens.Tests.Architecture.Samples.Named", out var named) && named.Count > 0);
    }

    [Fact]
    public void A_cycle_is_found_and_a_chain_is_not_one()
    {
        static Dictionary<string, Dictionary<string, string>> Of(params (string From, string To)[] edges) =>
            edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.ToDictionary(e => e.To, e => ""));
        Assert.Null(TypeDependencies.FindCycle(Of(("a", "b"), ("b", "c"), ("a", "c"))));
        Assert.Equal(["b", "c", "d", "b"], TypeDependencies.FindCycle(Of(("a", "b"), ("b", "c"), ("c", "d"), ("d", "b"))));
    }
}
