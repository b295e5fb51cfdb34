using System.Text.Json;
using NotebookLens.Cli;

namespace NotebookLens.Tests.Cli;

/// <summary>Each analysis verb answers in JSON for scripts and in text for a person.</summary>
public class AnalysisCliTests
{
    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = CliRunner.Run([.. args, "--json", "--dtype", "float32"]);
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.Clone();
    }

    static string Text(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        return output;
    }

    [Fact]
    public void Neighbors_starts_with_the_token_itself()
    {
        var r = Json("neighbors", "--model", Fixtures.Gemma, "--token", "▁apple", "--k", "3");
        Assert.Equal(3, r.GetProperty("neighbors").GetArrayLength());
        Assert.Equal("▁apple", r.GetProperty("neighbors")[0].GetProperty("token").GetString());
        Assert.Equal(1.0, r.GetProperty("neighbors")[0].GetProperty("similarity").GetDouble(), 4);
    }

    [Fact]
    public void Arithmetic_lists_its_terms()
    {
        var r = Json("arithmetic", "--model", Fixtures.Llama, "--expression", "冷 - cold + small", "--k", "4");
        Assert.Equal(["冷", "small"], r.GetProperty("plus").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        Assert.Equal(4, r.GetProperty("neighbors").GetArrayLength());
    }

    [Fact]
    public void Similarity_has_a_matrix_per_layer()
    {
        var r = Json("similarity", "--model", Fixtures.Gemma, "--word", "apple", "--sentence", "The apple is green.", "--sentence", "Apple makes the apple iPhone.", "--occurrence", "1");
        Assert.Equal(7, r.GetProperty("layers").GetArrayLength());
        var layer = r.GetProperty("layers")[3];
        Assert.Equal(1.0, layer.GetProperty("raw")[0][0].GetDouble(), 5);
        Assert.Equal(" apple", r.GetProperty("items")[1].GetProperty("token").GetString());
    }

    [Fact]
    public void Lens_rows_are_layers()
    {
        var r = Json("lens", "--model", Fixtures.Llama, "--text", "The apple is green", "--k", "2", "--last", "--target", "Ġgreen");
        Assert.Equal(3, r.GetProperty("layers").GetArrayLength());
        Assert.Equal(2, r.GetProperty("top")[0][0].GetArrayLength());
        Assert.True(r.GetProperty("targets").GetProperty("Ġgreen")[2][0].GetProperty("rank").GetInt32() >= 1);
        Assert.Contains("the last row is the model's prediction", Text("lens", "--model", Fixtures.Llama, "--text", "The apple"));
    }

    [Fact]
    public void Attention_reports_sinks_heads_and_maps()
    {
        var r = Json("attention", "--model", Fixtures.Gemma, "--text", "The apple is green. What color", "--from", "color", "--to", "green", "--layer", "5", "--head", "1");
        Assert.Equal(6, r.GetProperty("first_token_attention").GetArrayLength());
        Assert.Equal(5, r.GetProperty("top_heads").GetArrayLength());
        var map = r.GetProperty("map");
        Assert.Equal(r.GetProperty("tokens").GetArrayLength(), map.GetArrayLength());
        Assert.Equal(1.0, map[2].EnumerateArray().Sum(x => x.GetDouble()), 4);
    }

    [Fact]
    public void Neurons_by_prompt_and_by_neuron()
    {
        var top = Json("neurons", "--model", Fixtures.Gemma, "--text", "hello world", "--layer", "1", "--k", "3");
        Assert.Equal(3, top.GetProperty("activations").GetArrayLength());
        int neuron = top.GetProperty("activations")[0].GetProperty("neuron").GetInt32();
        var where = Json("neurons", "--model", Fixtures.Gemma, "--layer", "1", "--neuron", neuron.ToString(), "--prompt", "hello world", "--prompt", "good morning", "--k", "2");
        Assert.All(where.GetProperty("activations").EnumerateArray(), a => Assert.Equal(neuron, a.GetProperty("neuron").GetInt32()));
    }

    [Fact]
    public void Pca_projects_each_text()
    {
        var r = Json("pca", "--model", Fixtures.Gemma, "--layer", "3", "--text", "apple pie", "--text", "apple phone", "--text", "an apple split", "--word", "apple", "--components", "2");
        Assert.Equal(3, r.GetProperty("points").GetArrayLength());
        Assert.Equal(2, r.GetProperty("points")[0].GetProperty("coordinates").GetArrayLength());
    }

    [Theory]
    [InlineData(new[] { "similarity", "--model", "x", "--word", "a", "--sentence", "a" }, "two --sentence")]
    [InlineData(new[] { "neighbors", "--model", "x", "--token", "a", "--table", "middle" }, "--table must be")]
    [InlineData(new[] { "attention", "--model", "x", "--text", "a", "--from", "a" }, "--from and --to")]
    [InlineData(new[] { "pca", "--model", "x", "--layer", "1", "--text", "a", "--text", "b", "--components", "4" }, "--components")]
    [InlineData(new[] { "neurons", "--model", "x", "--layer", "1" }, "give --text")]
    public void Usage_mistakes(string[] args, string message)
    {
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(args, TextReader.Null, new StringWriter(), error));
        Assert.Contains(message, error.ToString());
    }

    /// <summary>Issue 12's error paths on the command line: a layer out of range, a word with no tokens (exit 1: the input is wrong, the command was right).</summary>
    [Theory]
    [InlineData(new[] { "attention", "--text", "The cat", "--layer", "9", "--head", "0" }, "error: Layer 9 is out of range; this model has layers 0 .. 5.")]
    [InlineData(new[] { "attention", "--text", "The cat", "--layer", "0", "--head", "4" }, "error: Head 4 is out of range; each layer has heads 0 .. 3.")]
    [InlineData(new[] { "neurons", "--text", "The cat", "--layer", "6" }, "error: Layer 6 is out of range; this model has layers 0 .. 5.")]
    [InlineData(new[] { "patchscope", "--source", "The cat", "--layers", "0,8", "--max-new-tokens", "1" }, "8 is out of range")]
    [InlineData(new[] { "neighbors", "--token", "" }, "error: An empty string has no embedding.")]
    [InlineData(new[] { "arithmetic", "--expression", "- cold" }, "error: '- cold' has no term to add.")]
    [InlineData(new[] { "lens", "--text", "The cat", "--target", "" }, "error: \"\" has no tokens.")]
    public void Input_errors_exit_1_with_the_reason(string[] args, string message)
    {
        var (code, output, error) = CliRunner.Run([.. args, "--model", Fixtures.Gemma]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData(new[] { "refusal", "--layer", "9" }, "--layer 9: this model has layers 0 .. 5")]
    [InlineData(new[] { "pca", "--layer", "7", "--text", "a", "--text", "b" }, "--layer: '7' is not a whole number ≥ 0 ≤ 6")]
    public void A_layer_out_of_range_found_before_the_work_is_a_usage_error(string[] args, string message)
    {
        var (code, _, error) = CliRunner.Run([.. args, "--model", Fixtures.Gemma]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void A_word_that_is_not_there_is_an_input_error()
    {
        var error = new StringWriter();
        Assert.Equal(1, CliApp.Run(["attention", "--model", Fixtures.Gemma, "--text", "The apple", "--from", "pear", "--to", "apple"], TextReader.Null, new StringWriter(), error));
        Assert.Contains("\"pear\" occurs 0 times", error.ToString());
    }
}
