using System.Globalization;
using NotebookLens.Generation;
using NotebookLens.Runtime;

namespace NotebookLens.Notebooks.Tests;

/// <summary>04-attention: the shapes, the sink, the colour head and Gemma's sliding window, each held to the core's own run on tiny (and on the Gemma fixture).</summary>
public sealed class Notebook04Checks(NotebookRuns runs) : NotebookChecks(runs)
{
    const string Question = "The apple is green. What color is the apple?";
    const string Ball = "The ball is green. The ball has the color";

    static readonly Lazy<LensModel> Gemma = new(() =>
    {
        TorchRuntime.EnsureLoaded();
        return LensModel.Load(Repo.Fixture("gemma3-tiny"));
    });

    protected override string Notebook => "04-attention";

    [Theory, Runners]
    public async Task The_shapes_are_the_models_layers_heads_and_tokens(Runner runner)
    {
        var text = (await Executed(runner)).Cell("shapes").Text;
        var c = Tiny.Config;
        Assert.Contains($"{c.NumLayers} layers, each of shape [1, {c.NumHeads}, {Tiny.Prompt(Question).Count}, {Tiny.Prompt(Question).Count}]", text);
        Assert.Contains("largest weight above the diagonal: 0", text);
    }

    [Theory, Runners]
    public async Task The_one_liner_ranks_first_the_head_the_core_finds_from_color_to_green(Runner runner)
    {
        var text = (await Executed(runner)).Cell("colour").Text;
        var best = Tiny.Attention(Ball).TopHeads("color", "green", k: 1)[0];
        // The table's first row under the header: layer, head, attention.
        var firstRow = text.Split('\n').SkipWhile(l => !l.StartsWith("-----", StringComparison.Ordinal)).Skip(1).First();
        Assert.Equal([best.Layer.ToString(CultureInfo.InvariantCulture), best.Head.ToString(CultureInfo.InvariantCulture), best.Score.ToString("F4", CultureInfo.InvariantCulture)],
            firstRow.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory, Runners]
    public async Task The_csharp_cell_names_the_colour_heads_and_the_models_answer(Runner runner)
    {
        var text = (await Executed(runner)).Cell("colour-csharp").Text;
        var ball = Tiny.Attention(Ball).TopHeads("color", "green", k: 1)[0];
        var question = Tiny.Attention(Question);
        var fromEnd = question.TopHeads(-1, question.Prompt.Locate("green"), k: 1)[0];
        Assert.Contains($"\"color\" -> \"green\": layer {ball.Layer}, head {ball.Head}: {ball.Score.ToString("P1", CultureInfo.CurrentCulture)}", text);
        Assert.Contains($"\"?\" -> \"green\": layer {fromEnd.Layer}, head {fromEnd.Head}:", text);
        Assert.True(fromEnd.Score > 0.5, $"the prose says the head looks back at green; the core finds {fromEnd.Score:P1}");
        // The text names the head (layer 6, head 1, 99.9 %), the same one from the end of the question, and three more above 99 %.
        Assert.Equal((6, 1, "99.9"), (ball.Layer, ball.Head, (100 * ball.Score).ToString("F1", CultureInfo.InvariantCulture)));
        Assert.Equal((ball.Layer, ball.Head), (fromEnd.Layer, fromEnd.Head));
        Assert.All(Tiny.Attention(Ball).TopHeads("color", "green", k: 4), h => Assert.True(h.Score > 0.99, $"L{h.Layer}H{h.Head} {h.Score:P1}"));
        var reply = Tiny.Generate(Ball, new GenerationOptions { MaxNewTokens = 2 }).Text;
        Assert.Contains("green", reply);
        Assert.Contains($"the model continues: \"{reply}\"", text);
    }

    [Theory, Runners]
    public async Task The_sink_is_the_cores_first_token_attention(Runner runner)
    {
        var text = (await Executed(runner)).Cell("sink-csharp").Text;
        var sink = Tiny.Attention(Question).FirstTokenAttention();
        var (layer, head) = Enumerable.Range(0, sink.RowCount * sink.ColumnCount)
            .Select(i => (layer: i / sink.ColumnCount, head: i % sink.ColumnCount)).MaxBy(x => sink[x.layer, x.head]);
        Assert.Contains($"strongest sink: layer {layer}, head {head}:", text);
        int strong = sink.Values.SelectMany(r => r).Count(v => v > 0.5);
        // The text: three heads above one half, the strongest layer 3, head 3, at 93 %; the first layers' heads at most 36 %.
        Assert.Equal((3, 3, 3), (strong, layer, head));
        Assert.Equal("93", (100 * sink[layer, head]).ToString("F0", CultureInfo.InvariantCulture));
        Assert.All(sink.Values.Take(2).SelectMany(r => r), v => Assert.InRange(v, 0, 0.36));
        Assert.Contains($"more than half their attention on the first token: {strong} of {sink.RowCount * sink.ColumnCount}", text);
    }

    [Theory, Runners]
    public async Task Gemmas_sliding_layers_see_the_window_and_its_global_layer_every_token(Runner runner)
    {
        var text = (await Executed(runner)).Cell("gemma-csharp").Text;
        var gemma = Gemma.Value;
        var maps = gemma.Attention(Ball);
        Assert.Contains($"sliding window: {gemma.Config.SlidingWindow}", text);
        for (int l = 0; l < maps.Layers; l++)
        {
            int seen = maps.Head(l, 0).Values[^1].Count(v => v > 0);
            var kind = gemma.Config.SlidingLayers[l] ? "sliding" : "global";
            Assert.Contains($"layer {l} ({kind}): the last token sees {seen} of {maps.Tokens} tokens", text);
            Assert.Equal(gemma.Config.SlidingLayers[l] ? Math.Min(gemma.Config.SlidingWindow!.Value, maps.Tokens) : maps.Tokens, seen);
        }
    }
}
