using System.Text.Json;
using NotebookLens.Cli;
using static NotebookLens.Tests.Cli.CliRunner;

namespace NotebookLens.Tests.Steering;

public sealed class PatchscopeCliTests
{

    [Fact]
    public void Patchscope_json_has_one_result_per_layer()
    {
        var (code, output, err) = Run("patchscope", "--model", Fixtures.Gemma, "--source", "Apple was founded by Steve Jobs", "--source-token", "Apple",
            "--target", "Please briefly introduce X", "--placeholder", "X", "--layers", "0,2,5", "--max-new-tokens", "3", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal("Apple", r.GetProperty("source").GetProperty("token").GetString());
        Assert.Equal(" X", r.GetProperty("target").GetProperty("token").GetString());
        var results = r.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 2, 5], results.Select(x => x.GetProperty("layer").GetInt32()));
        Assert.Equal([0, 2, 5], results.Select(x => x.GetProperty("target_layer").GetInt32()));
        Assert.All(results, x => Assert.InRange(x.GetProperty("ids").GetArrayLength(), 1, 3));
    }

    [Fact]
    public void Patchscope_sweeps_every_layer_by_default_for_a_person()
    {
        var (code, output, err) = Run("patchscope", "--model", Fixtures.Llama, "--source", "The capital of France is Paris", "--source-position", "-2", "--max-new-tokens", "2");
        Assert.True(code == 0, err);
        Assert.Contains("source  The capital of France is Paris  →  ·is (token 5)", output);
        Assert.Contains("target  cat -> cat; 1135 -> 1135; hello -> hello; ? ->  →  ·? (token 17)", output);
        // One row per layer: source layer, target layer, the continuation the JSON output gives for it.
        var (_, json, _) = Run("patchscope", "--model", Fixtures.Llama, "--source", "The capital of France is Paris", "--source-position", "-2", "--max-new-tokens", "2", "--json");
        using var doc = JsonDocument.Parse(json);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(NotebookLens.Models.ModelConfig.Load(Fixtures.Llama).NumLayers, results.Count);
        foreach (var r in results)
            Assert.Matches($@"\n\s+{r.GetProperty("layer").GetInt32()}\s+{r.GetProperty("target_layer").GetInt32()}  {System.Text.RegularExpressions.Regex.Escape(r.GetProperty("text").GetString()!)}\n", output);
    }

    [Fact]
    public void Patchscope_reports_what_it_cannot_find_or_use()
    {
        var (code, _, err) = Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--source-token", "Microsoft");
        Assert.Equal(1, code);
        Assert.Contains("\"Microsoft\" occurs 0 times", err);
        (code, _, err) = Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--target", "Tell me about it", "--placeholder", "X");
        Assert.Equal(1, code);
        Assert.Contains("The target prompt: \"X\" occurs 0 times", err);
        (code, _, err) = Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--layers", "0,2");
        Assert.Equal(1, code);
        Assert.Contains("layers 0 .. 1", err);
        Assert.Equal(2, Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--target", "X?").Code);
        Assert.Equal(2, Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--source-token", "pie", "--source-position", "1").Code);
        Assert.Equal(2, Run("patchscope", "--model", Fixtures.Llama, "--source", "Apple pie", "--layers", "first").Code);
    }
}
