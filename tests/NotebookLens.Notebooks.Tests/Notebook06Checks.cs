using System.Globalization;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Steering;
using static TorchSharp.torch;

namespace NotebookLens.Notebooks.Tests;

/// <summary>06-patchscope-and-steering: the Patchscope sweeps, the colour steering, temperatures and sampling, held to the core's own runs on tiny.</summary>
public sealed class Notebook06Checks(NotebookRuns runs) : NotebookChecks(runs)
{
    const string Ball = "The ball is green. The ball has the color";
    const string Weather = "The weather is really";
    const string Dictionary = "cold = 冷; big = 大; x =";

    protected override string Notebook => "06-patchscope-and-steering";

    [Theory, Runners]
    public async Task The_sweep_through_the_models_own_target_shows_the_cores_continuations(Runner runner)
    {
        var lines = (await Executed(runner)).Cell("patchscope").Text.Split('\n');
        var sweep = Tiny.Patchscope(new PatchscopeSource("The farmer picked a ripe apple") { Token = "apple" }, options: new PatchscopeOptions { MaxNewTokens = 6 });
        foreach (var r in sweep.Results)
        {
            var row = $"{r.SourceLayer,12}  {r.TargetLayer,12}  {r.Text.Replace("\n", "\\n", StringComparison.Ordinal)}".TrimEnd();
            Assert.Contains(row, lines.Select(l => l.TrimEnd()));
        }
        // The text: tiny's own word-list target, patched at layer 1, says 蘋果 from source layers 1 to 3; from layer 5 on,
        // and from layer 0, watermelon or tomato.
        Assert.Equal(("cold = 冷, dog = 狗, book = 書, x =", 1), (sweep.Target.Text, sweep.Results[0].TargetLayer));
        Assert.All(sweep.Results.Skip(1).Take(3), r => Assert.StartsWith(" 蘋果", r.Text));
        Assert.All(sweep.Results.Skip(4), r => Assert.DoesNotContain("蘋果", r.Text));
        Assert.All(sweep.Results.Skip(5).Prepend(sweep.Results[0]), r => Assert.True(r.Text.StartsWith(" 西瓜", StringComparison.Ordinal) || r.Text.StartsWith(" 番茄", StringComparison.Ordinal), r.Text));
    }

    [Theory, Runners]
    public async Task The_dictionary_sweep_is_the_cores(Runner runner)
    {
        var text = (await Executed(runner)).Cell("patchscope-csharp").Text;
        var options = new PatchscopeOptions { Target = new PatchscopeTarget(Dictionary, "x"), MaxNewTokens = 2 };
        (string Sentence, string Word)[] sources = [("The cat sat on the mat", "cat"), ("My dog likes to run", "dog"), ("The teacher works at the school", "teacher")];
        foreach (var (sentence, word) in sources)
        {
            var sweep = Tiny.Patchscope(new PatchscopeSource(sentence) { Token = word }, options: options);
            Assert.Contains($"{word,-16} " + string.Join(" | ", sweep.Results.Select(r => r.Text.Trim().Split('\n')[0])), text);
        }
        var control = Tiny.Generate(Dictionary, new GenerationOptions { MaxNewTokens = 2 }).Text.Trim();
        Assert.Contains($"{"nothing patched",-16} {control}", text);
        Assert.Equal("果汁", control);
        // The text: patched at the layer read, the first layers give the word back in English (cat and cold at layers
        // 0-2, dog at 1-2, teacher at 2); from layer 3 on it is lost.
        foreach (var (sentence, word, first) in new[] { ("The cat sat on the mat", "cat", 0), ("My dog likes to run", "dog", 1), ("The teacher works at the school", "teacher", 2), ("It is very cold today", "cold", 0) })
        {
            var results = Tiny.Patchscope(new PatchscopeSource(sentence) { Token = word }, options: options).Results.Select(r => r.Text.Trim().Split('\n')[0]).ToList();
            Assert.True(results.Select((r, layer) => r == word == (layer >= first && layer <= 2)).All(x => x), $"{word}: {string.Join(" | ", results)}");
        }
    }

    [Theory, Runners]
    public async Task The_colour_vector_turns_green_into_red(Runner runner)
    {
        var text = (await Executed(runner)).Cell("steering-csharp").Text;
        int layer = Tiny.Config.NumLayers / 5;
        using var scope = NewDisposeScope();
        var red = LastAt(layer, "The ball is red") - LastAt(layer, "The ball is green");
        string Reply(double scale) => Tiny.Generate(Ball, new GenerationOptions { MaxNewTokens = 3, Hooks = Interventions.AddVector(red, [layer], scale) }).Text;
        var (plain, steered) = (Reply(0), Reply(1));
        Assert.Contains("green", plain);
        Assert.Contains("red", steered);
        Assert.Contains($"scale 0: \"{plain}\"", text);
        Assert.Contains($"scale 1: \"{steered}\"", text);
        Assert.Contains($"scale 2: \"{Reply(2)}\"", text);
        Assert.Equal("", Reply(2));   // the text: it breaks down to nothing
        // The text: from layer 3 on (after the heads that fetch the colour) the same construction leaves the answer green.
        for (int later = 3; later < Tiny.Config.NumLayers; later++)
        {
            var vector = LastAt(later, "The ball is red") - LastAt(later, "The ball is green");
            foreach (var scale in new[] { 1.0, 2.0, 3.0 })
            {
                var reply = Tiny.Generate(Ball, new GenerationOptions { MaxNewTokens = 3, Hooks = Interventions.AddVector(vector, [later], scale) }).Text;
                Assert.True(reply.Contains("green", StringComparison.OrdinalIgnoreCase), $"layer {later}, scale {scale}: {reply}");
            }
        }
    }

    /// <summary>The residual stream at the input of <paramref name="layer"/>, at the last token of <paramref name="text"/>.</summary>
    static Tensor LastAt(int layer, string text)
    {
        var (_, cache) = Tiny.RunWithCache(text, new CacheOptions { Filter = n => n == HookPoints.ResidPre(layer), LastPositionOnly = true });
        return cache[HookPoints.ResidPre(layer)][0, 0];
    }

    [Theory, Runners]
    public async Task Temperatures_by_hand_match_the_core_and_flatten_the_distribution(Runner runner)
    {
        var text = (await Executed(runner)).Cell("temperature-csharp").Text;
        var result = Tiny.Temperatures(Weather, 0.5, 1, 2);
        foreach (var d in result.Distributions)
            Assert.Contains($"T = {d.Temperature}: \"{d.Top[0].Text}\" {d.Top[0].Probability.ToString("P1", CultureInfo.CurrentCulture)} by hand, {d.Top[0].Probability.ToString("P1", CultureInfo.CurrentCulture)} from Temperatures; entropy {d.Entropy:F2}", text);
        var entropies = result.Distributions.Select(d => d.Entropy).ToList();
        Assert.True(entropies.SequenceEqual(entropies.Order()) && entropies[^1] > entropies[0], $"entropy should grow with T: {string.Join(", ", entropies)}");
    }

    [Theory, Runners]
    public async Task Greedy_and_seeded_samples_are_the_cores(Runner runner)
    {
        var text = (await Executed(runner)).Cell("sampling-csharp").Text;
        var poem = Tiny.ChatPrompt("Write a poem about the sea");
        Assert.Contains($"greedy:         {Tiny.Generate(poem, new GenerationOptions { MaxNewTokens = 24 }).Text.ReplaceLineEndings(" ")}", text);
        var samples = new List<string>();
        for (int seed = 0; seed < 3; seed++)
        {
            var sampled = Tiny.Generate(poem, new GenerationOptions { MaxNewTokens = 24, Temperature = 1, Seed = seed }).Text.ReplaceLineEndings(" ");
            Assert.Contains($"T = 1, seed {seed}:  {sampled}", text);
            samples.Add(sampled);
        }
        Assert.True(samples.Distinct().Count() > 1, "different seeds should give different samples at T = 1");
    }
}
