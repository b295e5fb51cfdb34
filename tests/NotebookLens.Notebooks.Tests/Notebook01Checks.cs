using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using NotebookLens.Inspection;
using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// notebooks/01-inside-the-model: each step's outputs held to the same step computed here through the core API on tiny
/// (and on tiny-gemma, which the notebook loads beside it), and the effects its text tells the student to look for.
/// </summary>
public sealed class Notebook01Checks(NotebookRuns runs) : NotebookChecks(runs)
{
    protected override string Notebook => "01-inside-the-model";

    static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    static string F4(double x) => x.ToString("F4", CultureInfo.InvariantCulture);

    [Theory, Runners]
    public async Task The_parameter_counts_are_the_sums_over_the_named_parameters(Runner runner)
    {
        var notebook = await Executed(runner);
        var llama = Count(Tiny.Parameters.Sum(p => p.ElementCount));
        long gemmaCount = TinyGemma.Parameters.Sum(p => p.ElementCount);
        var gemma = Count(gemmaCount);
        Assert.Matches($@"parameters\s+{llama}", notebook.Cell("info-llama").Text);
        var count = notebook.Cell("count-cs").Text;
        Assert.Contains($"llama: {llama} parameters (summary: {llama})", count);
        Assert.Contains($"gemma: {gemma} parameters (summary: {gemma})", count);
        // The text's difference: per block, the q/k norms (one head dim each) and two more norms (one hidden size each).
        var c = TinyGemma.Config;
        Assert.Equal(c.NumLayers * (2 * c.HeadDim + 2 * c.HiddenSize), gemmaCount - Tiny.Parameters.Sum(p => p.ElementCount));
    }

    [Theory, Runners]
    public async Task Block_zero_is_listed_with_its_shapes_in_each_model_and_side_by_side(Runner runner)
    {
        var notebook = await Executed(runner);
        var llama = BlockZero(Tiny);
        var gemma = BlockZero(TinyGemma);
        foreach (var (cell, block) in new[] { ("params-llama", llama), ("params-gemma", gemma) })
            foreach (var p in block.Values)
                Assert.Matches($@"{Regex.Escape(p.Name)}\s+{Regex.Escape(Shape(p))}", notebook.Cell(cell).Text);

        // The text says which parts Gemma adds: its q/k norms and two more norms per block.
        Assert.Equal(["post_feedforward_layernorm.weight", "pre_feedforward_layernorm.weight", "self_attn.k_norm.weight", "self_attn.q_norm.weight"],
            gemma.Keys.Except(llama.Keys).Order(StringComparer.Ordinal));
        var table = notebook.Cell("names-cs").Text;
        foreach (var part in llama.Keys.Union(gemma.Keys))
        {
            var row = $@"(?m)^{Regex.Escape(part)}\s+{Regex.Escape(ShapeOrDash(llama, part))}\s+{Regex.Escape(ShapeOrDash(gemma, part))}\s*$";
            Assert.Matches(row, table);
        }
    }

    [Theory, Runners]
    public async Task The_weight_and_the_embedding_views_show_the_tensors_values(Runner runner)
    {
        var notebook = await Executed(runner);
        using var scope = NewDisposeScope();
        var up = Tiny.Weight("model.layers.0.mlp.up_proj.weight").to(ScalarType.Float32);
        var table = Tiny.Weight("model.embed_tokens.weight").to(ScalarType.Float32);
        AssertPreview(notebook.Cell("weights-up").Html, up.shape, up[0]);
        AssertPreview(notebook.Cell("weights-cs").Html, [100, 100], up[0]);
        AssertPreview(notebook.Cell("embedding-table").Html, table.shape, table[0]);
        AssertPreview(notebook.Cell("embedding-row0").Html, [table.shape[1]], table[0]);
        Assert.Contains($"token 0 is '{Tiny.Tokenizer.DisplayText(0)}'", notebook.Cell("embedding-row0").Text);
        // The text: tiny-gemma's token 0 is "!" as tiny's, and Gemma's special tokens are its last ones.
        var gemmaTable = TinyGemma.Weight("model.embed_tokens.weight");
        Assert.Contains($"gemma's table: [{string.Join(", ", gemmaTable.shape)}], token 0 is '!'", notebook.Cell("embedding-row0").Text);
        Assert.Equal(["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"],
            Enumerable.Range(TinyGemma.Config.VocabSize - 6, 6).Select(id => TinyGemma.Tokenizer.DisplayText(id)));
    }

    public static TheoryData<Runner, string, string> NeighborCells()
    {
        var data = new TheoryData<Runner, string, string>();
        foreach (var runner in Enum.GetValues<Runner>())
            foreach (var (cell, word) in new[] { ("neighbors-apple", " apple"), ("neighbors-apple-gemma", " apple"), ("neighbors-apple-zh", "蘋果"),
                         ("neighbors-company", "Apple"), ("neighbors-cold", " cold"), ("neighbors-li", "李"), ("neighbors-wang", "王") })
                data.Add(runner, cell, word);
        return data;
    }

    [Theory, MemberData(nameof(NeighborCells))]
    public async Task Each_neighbours_cell_shows_the_nearest_tokens(Runner runner, string cell, string word)
    {
        var text = (await Executed(runner)).Cell(cell).Text;
        var model = cell.EndsWith("-gemma", StringComparison.Ordinal) ? TinyGemma : Tiny;
        foreach (var n in model.Neighbors(word, k: 10).Neighbors)
            Assert.Matches($@"(?m)\s{n.Id}\s+{F4(n.Similarity)}\s*$", text);
    }

    static IReadOnlyList<string> Nearest(string word) => Tiny.Neighbors(word, k: 10).Neighbors.Skip(1).Select(n => n.Text).ToList();

    [Fact]
    public void The_neighbours_the_text_points_at_are_there()
    {
        Assert.Equal([" hot", "冷"], Nearest(" cold").Take(2));
        Assert.Equal(["蘋果", " Apple"], Nearest(" apple").Take(2));
        Assert.Equal(["蘋果", " Apple"], TinyGemma.Neighbors(" apple", k: 3).Neighbors.Skip(1).Select(n => n.Text));
        Assert.Equal([" apple", " Apple"], Nearest("蘋果").Take(2));
        Assert.True(Nearest("蘋果").Count(n => n is "蛋糕" or "草莓" or "麵條" or "科") >= 3, string.Join(", ", Nearest("蘋果")));
        Assert.True(Nearest("Apple").Count(n => n is "Tim" or "Shares" or "Engineers" or "Investors") >= 3, string.Join(", ", Nearest("Apple")));
        // The surnames: one token each, their own spelling first (王) or among the first three (李), Chinese surnames
        // among the rest, and " king" near 王.
        string[] chineseSurnames = ["吳", "劉", "陳", "林", "黃", "張", "李", "王"];
        foreach (var (surname, spelling, within) in new[] { ("李", " Lee", 3), ("王", " Wang", 1) })
        {
            Assert.Equal(1, Tiny.Prompt(surname, addSpecialTokens: false).Count);
            Assert.Contains(spelling, Nearest(surname).Take(within));
            Assert.True(Nearest(surname).Count(chineseSurnames.Contains) >= 3, string.Join(", ", Nearest(surname)));
        }
        Assert.Contains(" king", Nearest("王"));
    }

    [Theory, Runners]
    public async Task The_cosine_by_hand_is_the_neighbours_cosine(Runner runner)
    {
        var text = (await Executed(runner)).Cell("neighbors-cs").Text;
        using var scope = NewDisposeScope();
        var table = Tiny.Weight("model.embed_tokens.weight").to(ScalarType.Float64);
        var (cold, leng) = (table[Tiny.TokenId(" cold")], table[Tiny.TokenId("冷")]);
        var cosine = (cold.dot(leng) / (cold.norm() * leng.norm())).item<double>();
        // The cell takes 冷 by name: second after " hot" (The_neighbours_the_text_points_at_are_there).
        Assert.Contains($"cos( cold, 冷) by hand: {F4(cosine)}; Neighbors says {F4(cosine)}", text);
    }

    [Theory, Runners]
    public async Task Cold_minus_cold_plus_small_is_small_with_the_in_sentence_tokens_only(Runner runner)
    {
        var notebook = await Executed(runner);
        var literal = Tiny.Arithmetic("冷 - cold + small").Neighbors;
        var spaced = Tiny.Arithmetic("冷 - Ġcold + Ġsmall").Neighbors;
        Assert.NotEqual("小", literal[0].Text);   // the text says the literal expression misses
        Assert.Equal("小", spaced[0].Text);
        AssertFirstRow(notebook.Cell("arithmetic-literal").Text, literal[0]);
        AssertFirstRow(notebook.Cell("arithmetic").Text, spaced[0]);
        var byHand = notebook.Cell("arithmetic-cs").Text;
        foreach (var n in spaced.Take(5))
            Assert.Matches($@"(?m)^by hand: {Regex.Escape(n.Text)}\s+{F4(n.Similarity)}$", byHand);
    }

    static void AssertFirstRow(string text, Neighbor first) =>
        Assert.Matches($@"(?m)^\s*1\s+{Regex.Escape(first.Text.Trim())}\s.*\s{first.Id}\s+{F4(first.Similarity)}\s*$", text);

    /// <summary>A tensor view's shape and the first values of its preview (its first row), as the view rounds them.</summary>
    static void AssertPreview(string html, long[] shape, Tensor firstRow)
    {
        Assert.Contains($"<dt>shape</dt><dd>[{string.Join(", ", shape)}]</dd>", html);
        var preview = Regex.Match(html, @"<pre class=""nl-preview"">([^<]*)</pre>");
        Assert.True(preview.Success, "no value preview in the view");
        var shown = WebUtility.HtmlDecode(preview.Groups[1].Value).Split('\n')[0]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(v => v != "…")
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        var values = firstRow.to(ScalarType.Float64).data<double>().ToArray();
        Assert.NotEmpty(shown);
        for (int i = 0; i < shown.Count; i++)
            Assert.True(Math.Abs(shown[i] - values[i]) <= 1e-3, $"value {i}: the view shows {shown[i]}, the tensor has {values[i]}");
    }

    static Dictionary<string, ModelParameter> BlockZero(LensModel model) => model.Parameters
        .Where(p => p.Name.Contains("layers.0.", StringComparison.Ordinal))
        .ToDictionary(p => p.Name[(p.Name.IndexOf("layers.0.", StringComparison.Ordinal) + "layers.0.".Length)..]);

    static string Shape(ModelParameter p) => "[" + string.Join(", ", p.Shape) + "]";

    static string ShapeOrDash(Dictionary<string, ModelParameter> block, string part) => block.TryGetValue(part, out var p) ? Shape(p) : "—";
}
