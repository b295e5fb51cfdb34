using System.Diagnostics;
using System.Text.Json.Nodes;
using CsCheck;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// Runs a parser over generated inputs and holds each outcome to the parsers' contract: a success, or one of the
/// documented exceptions whose message names the input's file; never another exception type, never a case that runs
/// away (<see cref="MaxSeconds"/>), never more managed allocation than <see cref="MaxAllocatedBytes"/> per case. Seeded, so a
/// failure repeats; <c>NOTEBOOKLENS_FUZZ_CASES</c> raises the number of cases for a long run (build/fuzz.sh).
/// </summary>
static class Fuzz
{
    /// <summary>
    /// A guard against a case that runs away (a loop the limits miss, exponential work), not a speed test: a legitimate
    /// case that fills the template's 64 M-character output cap took 2.2 s on the 2-core CI machine under load.
    /// </summary>
    public const double MaxSeconds = 30;
    public const long MaxAllocatedBytes = 256L * 1024 * 1024;

    public static long Cases =>
        long.TryParse(Environment.GetEnvironmentVariable("NOTEBOOKLENS_FUZZ_CASES"), out var n) && n > 0 ? n : 2000;

    /// <summary>
    /// Each generated case: <paramref name="run"/> returns normally or throws a documented exception naming
    /// <paramref name="origin"/> (null: the input is no file, e.g. a template string).
    /// </summary>
    public static void Check<T>(Gen<T> gen, Action<T> run, string? origin, Type[] documented, Func<T, string> print, ulong seed = 16)
    {
        // CsCheck shrinks a failing case to a small one and reports it with its seed.
        gen.Sample(input =>
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try { run(input); }
            catch (Exception e) when (documented.Any(t => t.IsInstanceOfType(e)))
            {
                if (origin is not null && !e.Message.Contains(origin, StringComparison.Ordinal))
                    throw new Xunit.Sdk.XunitException($"{e.GetType().Name} does not name {origin}: {e.Message}");
            }
            if (clock.Elapsed.TotalSeconds > MaxSeconds)
                throw new Xunit.Sdk.XunitException($"one case took {clock.Elapsed.TotalSeconds:F1} s");
            long bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
            if (bytes > MaxAllocatedBytes)
                throw new Xunit.Sdk.XunitException($"one case allocated {bytes / (1 << 20)} MB");
        }, seed: new PCG(1, seed).ToString(), iter: Cases, threads: 1, print: print);
    }

    /// <summary>Numbers a hostile file puts where sizes go: edges of every integer width, negatives, fractions, huge.</summary>
    public static readonly Gen<double> Sizes = Gen.OneOf(
        Gen.Int[-2, 70].Select(i => (double)i),
        Gen.OneOf(0.5, -1e300, 1e12, 1e6, 2147483647, 2147483648, 4294967296, 9.2233720368547758e18, 1e300, 65536, 131072));

    static readonly Gen<string> Key = Gen.String[Gen.Char["abc_"], 1, 4];

    static readonly Gen<string> Scalar = Gen.OneOf(
        Gen.Const("null"),
        Gen.Bool.Select(b => b ? "true" : "false"),
        Sizes.Select(Number),
        Gen.String[Gen.Char["ab \"\\{}%é李\u0000"], 0, 6].Select(Text));

    /// <summary>Any JSON value as text, nested a few levels; strings short but not only ASCII; keys of an object distinct.</summary>
    public static readonly Gen<string> AnyJson = Gen.Recursive<string>((depth, inner) => depth > 3
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, inner.Array[0, 4].Select(items => $"[{string.Join(",", items)}]")),
            (1, Gen.Select(Key.Array[0, 4], inner.Array[4, 4], (keys, values) => Object(keys.Distinct().Zip(values))))));

    public static string Number(double d) => JsonValue.Create(d).ToJsonString();

    public static string Text(string s) => JsonValue.Create(s).ToJsonString();

    /// <summary>A JSON object from keys and value texts; a repeated key stays repeated (as a hostile file may have it).</summary>
    public static string Object(IEnumerable<(string Key, string Value)> entries) =>
        "{" + string.Join(",", entries.Select(e => $"{Text(e.Key)}:{e.Value}")) + "}";

    public static string Array(IEnumerable<string> items) => $"[{string.Join(",", items)}]";
}

/// <summary>
/// One structural edit of a JSON document: walk down by <see cref="Path"/> (each number picks a child, modulo the
/// count) and there replace the value with <see cref="Replacement"/>, remove it, or repeat it.
/// </summary>
sealed record JsonMutation(int[] Path, string Replacement, int Operation)
{
    public static readonly Gen<JsonMutation> Any = Gen.Select(Gen.Int[0, 1 << 20].Array[1, 8], Fuzz.AnyJson, Gen.Int[0, 5],
        (path, replacement, op) => new JsonMutation(path, replacement, op));

    public override string ToString() => $"[{string.Join(",", Path)}] op {Operation} {Replacement}";

    /// <summary>The document with every mutation applied in turn.</summary>
    public static string Apply(string json, IEnumerable<JsonMutation> mutations)
    {
        var root = JsonNode.Parse(json)!;
        foreach (var m in mutations) root = m.Apply(root);
        return root.ToJsonString();
    }

    JsonNode Apply(JsonNode root)
    {
        JsonNode node = root;
        foreach (int step in Path)
        {
            JsonNode? child = node switch
            {
                JsonObject o when o.Count > 0 => o.ElementAt(step % o.Count).Value,
                JsonArray a when a.Count > 0 => a[step % a.Count],
                _ => null,
            };
            if (child is null) break;
            node = child;
        }
        if (node == root) return Operation == 0 ? JsonNode.Parse(Replacement) ?? root : root;
        var parent = node.Parent!;
        switch (parent, Operation)
        {
            case (JsonObject o, 1): o.Remove(node.GetPropertyName()); break;
            case (JsonArray a, 1): a.Remove(node); break;
            case (JsonArray a, 2): a.Add(node.DeepClone()); break;
            default: node.ReplaceWith(JsonNode.Parse(Replacement)); break;
        }
        return root;
    }
}
