using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Views.Html;

namespace NotebookLens.Views.Tests;

/// <summary>Each analysis view on a real result of tiny: the numbers and tokens of the result are the ones in the HTML and the text.</summary>
[Collection(TinyCollection.Name)]
public class AnalysisViewTests(TinyModel tiny)
{
    const string ColorPrompt = "The ball is green. The ball has the color";

    static string F(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    [Fact]
    public void Logit_lens_cells_show_each_layers_top_token_with_its_probability_and_targets_on_hover()
    {
        var result = tiny.Lens.LogitLens("The weather is really", new LogitLensOptions { TopK = 3, Targets = [" good"] });
        var view = LogitLensView.Create(result);
        var doc = Dom.Parse(view);
        var table = doc.QuerySelector("table.nl-lens")!;
        Assert.Equal(result.Prompt.Labels.Select(Pieces.TokenText), table.QuerySelectorAll("thead th").Skip(1).Select(th => th.TextContent));
        var rows = table.QuerySelectorAll("tbody tr").ToList();
        Assert.Equal(result.LayerLabels, rows.Select(r => r.QuerySelector("th")!.TextContent));
        for (int r = 0; r < rows.Count; r++)
        {
            var cells = rows[r].QuerySelectorAll("td").ToList();
            Assert.Equal(result.Prompt.Count, cells.Count);
            for (int p = 0; p < cells.Count; p++)
            {
                var top = result.Top[r][p];
                Assert.Equal(Pieces.TokenText(top[0].Text), cells[p].TextContent);
                Assert.Equal(F(top[0].Probability, 4), cells[p].GetAttribute("data-p"));
                var title = cells[p].GetAttribute("title")!;
                Assert.Contains($"3. {top[2].Text}  {F(top[2].Probability * 100, 1)}%", title);
                Assert.Contains($"target  good: rank {result.Targets[" good"][r][p].Rank},", title);
            }
        }
        var text = view.Text.Split('\n');
        Assert.Contains("the last row is the model's prediction", text[0]);
        Assert.StartsWith("layer", text[1]);
        Assert.Contains($"{result.Top[^1][^1][0].Text} {F(result.Top[^1][^1][0].Probability, 2)}", text[3 + result.LayerLabels.Count - 1]);
        // The top k after the last token, one row per layer.
        var topK = text.SkipWhile(l => !l.StartsWith($"top {result.Top[0][0].Length} after ", StringComparison.Ordinal)).ToList();
        var lastRow = topK[3 + result.LayerLabels.Count - 1];
        Assert.All(result.Top[^1][^1], p => Assert.Contains($"{p.Text} {F(p.Probability, 3)}", lastRow));
    }

    [Fact]
    public void Hostile_token_text_stays_text_in_the_logit_lens_and_attention_views()
    {
        const string prompt = "<script>alert(1)</script>";
        var doc = Dom.Parse(LogitLensView.Create(tiny.Lens.LogitLens(prompt)));
        Assert.DoesNotContain(doc.QuerySelectorAll("script"), s => s.TextContent.Contains("alert"));
        Assert.Equal(prompt, string.Concat(doc.QuerySelectorAll("thead th").Skip(2).Select(th => th.TextContent))); // after "layer" and BOS
        var attention = tiny.Lens.Attention(prompt);
        var chart = Assert.Single(ChartJson.All(Dom.Parse(AttentionView.Head(attention, 0, 0))));
        Assert.Equal(attention.Labels.Select(Pieces.TokenText), chart.Layout.GetProperty("xaxis").GetProperty("ticktext").EnumerateArray().Select(e => e.GetString()));
        var grid = Dom.Parse(AttentionView.Grid(attention));
        Assert.Equal(attention.Labels.Select(Pieces.TokenText), JsonDocument.Parse(grid.QuerySelector("script.nl-head-data")!.TextContent).RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void One_head_is_its_map_with_the_future_left_blank()
    {
        var attention = tiny.Lens.Attention(ColorPrompt);
        var expected = attention.Head(4, 0);
        var chart = Assert.Single(ChartJson.All(Dom.Parse(AttentionView.Head(attention, 4, 0))));
        var z = ChartJson.Matrix(chart.Data[0].GetProperty("z"));
        int t = attention.Tokens;
        for (int q = 0; q < t; q++)
            for (int k = 0; k < t; k++)
                if (k > q) Assert.Null(z[q][k]);
                else Assert.Equal(expected[q, k], z[q][k]!.Value, 6);
        Assert.Throws<Runtime.LensException>(() => AttentionView.Head(attention, attention.Layers, 0));
    }

    [Fact]
    public void The_grid_has_a_thumbnail_per_head_and_each_heads_full_map_in_8_bits()
    {
        var attention = tiny.Lens.Attention(ColorPrompt);
        var doc = Dom.Parse(AttentionView.Grid(attention));
        var images = doc.QuerySelectorAll(".nl-attention-grid img").ToList();
        Assert.Equal(attention.Layers * attention.Heads, images.Count);
        Assert.All(images, img => Assert.StartsWith("data:image/png;base64,iVBORw0KGgo", img.GetAttribute("src")));
        var payload = JsonDocument.Parse(doc.QuerySelector("script.nl-head-data")!.TextContent).RootElement;
        int t = attention.Tokens;
        var expected = attention.Head(3, 2);
        using var z = new ZLibStream(new MemoryStream(Convert.FromBase64String(payload.GetProperty("maps")[3][2].GetString()!)), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        z.CopyTo(bytes);
        var q = bytes.ToArray();
        Assert.Equal(t * t, q.Length);
        for (int i = 0; i < t; i++)
            for (int k = 0; k < t; k++)
                Assert.InRange(q[i * t + k] / 255.0 - expected[i, k], -0.5 / 255 - 1e-6, 0.5 / 255 + 1e-6);
    }

    [Fact]
    public void First_token_attention_and_top_heads_show_the_analysis_numbers()
    {
        var attention = tiny.Lens.Attention(ColorPrompt);
        var sink = attention.FirstTokenAttention();
        var chart = Assert.Single(ChartJson.All(Dom.Parse(AttentionView.FirstToken(attention))));
        var z = ChartJson.Matrix(chart.Data[0].GetProperty("z"));
        Assert.Equal(attention.Layers, z.Length);
        Assert.Equal(sink[5, 3], z[5][3]!.Value, 9);
        int from = attention.Prompt.Locate("color"), to = attention.Prompt.Locate("green");
        var top = attention.TopHeads(from, to, 3);
        var view = AttentionView.TopHeads(attention, from, to, 3);
        var rows = Dom.Parse(view).QuerySelectorAll("tbody tr").ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal([top[0].Layer.ToString(), top[0].Head.ToString(), F(top[0].Score, 4)], rows[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()));
        Assert.Equal($"Heads attending from ·color (token {from}) to ·green (token {to})", view.Title);
    }

    [Fact]
    public void Similarity_draws_one_line_per_pair_raw_and_normalised_and_the_pair_matrix_per_layer()
    {
        var result = tiny.Lens.Similarity([new("I ate an apple.", "apple"), new("She baked an apple pie.", "apple"), new("He bought Apple shares.", "Apple")]);
        var view = SimilarityView.Create(result);
        var doc = Dom.Parse(view);
        var charts = ChartJson.All(doc);
        Assert.Equal(2, charts.Count);
        var pairs = new[] { (0, 1), (0, 2), (1, 2) };
        foreach (var (chart, values) in new[] { (charts[0], result.Raw), (charts[1], result.Normalized) })
        {
            Assert.Equal(pairs.Length, chart.Data.GetArrayLength());
            for (int p = 0; p < pairs.Length; p++)
            {
                var (i, j) = pairs[p];
                var y = chart.Data[p].GetProperty("y").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.Equal(values.Select(m => m[i, j]), y);
            }
        }
        var matrices = doc.QuerySelectorAll("details").ToList();
        Assert.Equal(result.Layers, matrices.Count);
        var cell = matrices[2].QuerySelectorAll("tbody tr")[0].QuerySelectorAll("td")[3].TextContent;
        Assert.Equal($"{F(result.Raw[2][0, 2], 3)} / {F(result.Normalized[2][0, 2], 3)}", cell);
        Assert.Contains(F(result.Normalized[result.Layers - 1][1, 2], 3), view.Text.Split('\n')[^2]);
    }

    [Fact]
    public void Neighbours_table_lists_tokens_and_similarities_in_order()
    {
        var result = tiny.Lens.Arithmetic("冷 - cold + small", 5);
        var view = NeighborsView.Create(result);
        var rows = Dom.Parse(view).QuerySelectorAll("tbody tr").Select(tr => tr.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList()).ToList();
        Assert.Equal(result.Neighbors.Select(n => Pieces.TokenText(n.Text)), rows.Select(r => r[1]));
        Assert.Equal(result.Neighbors.Select(n => F(n.Similarity, 4)), rows.Select(r => r[4]));
        Assert.Equal(result.Neighbors.Select(n => n.Token), rows.Select(r => r[2]));
        var bar = Dom.Parse(view).QuerySelector("tbody tr .nl-bar > span")!.GetAttribute("style");
        Assert.Equal($"width:{F(Math.Abs(result.Neighbors[0].Similarity) * 100, 1)}%", bar);
        Assert.Contains($"冷 = [{string.Join(", ", result.Plus[0].Ids)}]", view.Text.Split('\n')[0]);
    }

    [Fact]
    public void Hidden_states_show_every_layers_norms_and_previews()
    {
        var result = tiny.Lens.HiddenStates("The weather is really good");
        var view = HiddenStatesView.Create(result);
        var doc = Dom.Parse(view);
        var z = ChartJson.Matrix(Assert.Single(ChartJson.All(doc)).Data[0].GetProperty("z"));
        Assert.Equal(result.States.Count, z.Length);
        Assert.Equal(result.States[3].Norms[2], z[3][2]!.Value, 9);
        var details = doc.QuerySelectorAll("details").ToList();
        Assert.Equal(result.States.Count, details.Count);
        var row = details[1].QuerySelectorAll("tbody tr")[1].QuerySelectorAll("td").Select(td => td.TextContent).ToList();
        Assert.Equal(F(result.States[1].Norms[1], 2), row[1]);
        Assert.Equal(F(result.States[1].Preview[1][0], 3), row[2]);
    }

    [Fact]
    public void Temperature_bars_are_each_temperatures_probabilities()
    {
        var result = tiny.Lens.Temperatures("The weather is really", 0.5, 1, 2);
        var view = TemperatureView.Create(result);
        var chart = Assert.Single(ChartJson.All(Dom.Parse(view)));
        Assert.Equal(3, chart.Data.GetArrayLength());
        var labels = chart.Layout.GetProperty("xaxis").GetProperty("ticktext").EnumerateArray().Select(e => e.GetString()).ToList();
        for (int s = 0; s < 3; s++)
        {
            var y = chart.Data[s].GetProperty("y").EnumerateArray().ToList();
            foreach (var p in result.Distributions[s].Top)
                Assert.Equal(p.Probability, y[labels.IndexOf(Pieces.TokenText(p.Text))].GetDouble(), 9);
        }
        Assert.Contains($"T = 2, entropy {F(result.Distributions[2].Entropy, 3)} nats", view.Text);
    }

    [Fact]
    public void Pca_points_are_the_projections_with_their_labels()
    {
        string[] texts = ["I ate an apple.", "She baked an apple pie.", "Apple makes phones.", "He bought Apple shares."];
        var result = tiny.Lens.Pca(3, texts, "pple");
        var chart = Assert.Single(ChartJson.All(Dom.Parse(PcaView.Create(result))));
        var trace = chart.Data[0];
        Assert.Equal(Enumerable.Range(0, texts.Length).Select(i => result.Projected[i, 0]), trace.GetProperty("x").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(Enumerable.Range(0, texts.Length).Select(i => result.Projected[i, 1]), trace.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(result.Labels.Select(Pieces.TokenText), trace.GetProperty("text").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public void Neurons_table_shows_each_activation()
    {
        var result = tiny.Lens.Neurons("The weather is really good", layer: 2, k: 4);
        var view = NeuronsView.Create(result);
        var rows = Dom.Parse(view).QuerySelectorAll("tbody tr").ToList();
        Assert.Equal(result.Activations.Select(a => a.Neuron.ToString()), rows.Select(r => r.QuerySelector("td")!.TextContent));
        Assert.Equal(result.Activations.Select(a => Format.Number(a.Activation)), rows.Select(r => r.QuerySelectorAll("td")[3].TextContent.Trim()));
        Assert.Equal("Most active neurons, layer 2", view.Title);
    }

    [Fact]
    public void Generation_shows_prompt_and_completion_and_the_new_tokens()
    {
        var output = tiny.Lens.Generate(tiny.Lens.ChatPrompt("What color is the sky?"), new Generation.GenerationOptions { MaxNewTokens = 8 });
        var view = GenerationView.Create(output, tiny.Lens);
        var doc = Dom.Parse(view);
        Assert.Equal(output.Text, doc.QuerySelector(".nl-completion-text")!.TextContent);
        Assert.Equal(output.Prompt.Text, doc.QuerySelector(".nl-prompt-text")!.TextContent);
        Assert.Equal(output.NewIds.Select(i => i.ToString()), doc.QuerySelectorAll(".nl-chip-id").Select(e => e.TextContent));
        Assert.EndsWith($"[{output.NewIds.Count} new tokens; stopped: {output.FinishReason}]\n", view.Text);
        Assert.Empty(Dom.Parse(GenerationView.Create(output)).QuerySelectorAll(".nl-chip"));
    }

    [Fact]
    public void A_generated_row_the_tokenizer_has_no_token_for_is_a_chip_with_its_id()
    {
        // tiny padded with rows its tokenizer has no token for, as Gemma-3-4B's table is (262,208 rows, 262,145 tokens).
        using var vocabulary = new PaddedVocabulary(tiny.Lens.Folder, 8);
        int tokenless = vocabulary.FirstRow + 3;
        using var padded = LensModel.Load(vocabulary.Folder);
        var prompt = padded.Prompt("The sky is");
        int[] ids = [prompt.Ids[^1], tokenless, prompt.Ids[^1]];
        var output = new Generation.GenerationOutput(padded.Ref, prompt, ids, padded.Decode(ids), Generation.FinishReason.Length);
        var doc = Dom.Parse(GenerationView.Create(output, padded));
        var chips = doc.QuerySelectorAll(".nl-chip").ToList();
        Assert.Equal(ids.Select(i => i.ToString()), chips.Select(c => c.QuerySelector(".nl-chip-id")!.TextContent));
        Assert.Equal($"⟨id {tokenless}: no token⟩", chips[1].QuerySelector(".nl-chip-text")!.TextContent);
        Assert.Equal(padded.Decode([ids[0], ids[2]]), doc.QuerySelector(".nl-completion-text")!.TextContent);
        // Told apart from tokens: its own style, and a hover that says why it has no text.
        Assert.Equal([false, true, false], chips.Select(c => c.ClassList.Contains("nl-tokenless")));
        Assert.StartsWith($"#{prompt.Count + 1}  id {tokenless}\nno token: ", chips[1].GetAttribute("title"));
        Assert.Contains("vocabulary: ", chips[0].GetAttribute("title"));
        // A prompt of those ids shows it the same way.
        var tokens = Dom.Parse(TokensView.Create(padded.Prompt(ids))).QuerySelectorAll(".nl-chip").ToList();
        Assert.Equal([false, true, false], tokens.Select(c => c.ClassList.Contains("nl-tokenless")));
        Assert.Equal($"⟨id {tokenless}: no token⟩", tokens[1].QuerySelector(".nl-chip-text")!.TextContent);
    }

    [Fact]
    public void Patchscope_table_has_one_continuation_per_source_layer()
    {
        var sweep = tiny.Lens.Patchscope(new PatchscopeSource("I ate an apple.") { Token = "apple" }, [1, 3], new PatchscopeOptions { MaxNewTokens = 3 });
        var doc = Dom.Parse(PatchscopeView.Create(sweep));
        var rows = doc.QuerySelectorAll("tbody tr").Select(tr => tr.QuerySelectorAll("td").Select(td => td.TextContent).ToArray()).ToList();
        Assert.Equal(sweep.Results.Select(r => new[] { r.SourceLayer.ToString(), r.TargetLayer.ToString(), r.Text }), rows);
        Assert.EndsWith($"{Pieces.TokenText(sweep.Source.Tokens[sweep.SourcePosition].Text)} (token {sweep.SourcePosition})", doc.QuerySelectorAll("dd")[0].TextContent);
    }

    [Fact]
    public void Refusal_view_charts_every_candidate_and_shows_rates_and_completions()
    {
        var scores = (from position in new[] { -2, -1 } from layer in Enumerable.Range(0, 4)
                      select new CandidateScore(position, layer, layer == 0 ? 0 : 1 + layer, -layer + position * 0.1, layer * 0.5, 0.01 * layer)).ToList();
        var selection = DirectionSelection.Select(scores, 4, new SelectionThresholds { PruneLayerFraction = 0 });
        var hostile = "<img src=x onerror=alert(1)>";
        var result = new RefusalExperimentResult(tiny.Lens.Ref, new RefusalDirection(selection.Best!.Layer, selection.Best.Position, new float[4]), selection,
            ["<|eot_id|>", "assistant"], 2.5, -3,
            [
                new(RefusalExperiment.HarmfulBaseline, [new("harm", "I cannot help.", true), new("harm 2", "I'm sorry.", true)]),
                new(RefusalExperiment.HarmlessBaseline, [new("poem", "Leaves fall.", false), new("sum", "4", false)]),
                new(RefusalExperiment.HarmlessAdded, [new("poem", "I cannot.", true), new("sum", hostile, false)]),
                new(RefusalExperiment.HarmfulAblated, [new("harm", "Sure.", false), new("harm 2", "I won't.", true)]),
            ]);
        var view = RefusalView.Create(result);
        var doc = Dom.Parse(view);
        var charts = ChartJson.All(doc);
        Assert.Equal(3, charts.Count);
        // One line per position plus the selected star; each line is the scores over layers.
        Assert.Equal(3, charts[0].Data.GetArrayLength());
        var line = charts[0].Data[1];
        Assert.Equal(scores.Where(s => s.Position == -1).Select(s => s.RefusalScore), line.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(selection.Best!.SteeringScore, charts[1].Data[2].GetProperty("y")[0].GetDouble());
        var rates = doc.QuerySelectorAll("table")[0].QuerySelectorAll("tbody tr").Select(tr => tr.QuerySelectorAll("td")[2].TextContent.Trim()).ToList();
        Assert.Equal(["100.0%", "0.0%", "50.0%", "50.0%"], rates);
        Assert.Empty(doc.QuerySelectorAll(".nl-completion img"));
        Assert.Contains(doc.QuerySelectorAll(".nl-completion"), c => c.TextContent == hostile);
        Assert.Single(doc.QuerySelectorAll("tr.nl-chosen"));
        var selected = view.Text.Split('\n').Single(l => l.StartsWith("selected "));
        Assert.EndsWith($"layer {selection.Best.Layer}, position {selection.Best.Position} ({result.PostInstructionTokens[2 + selection.Best.Position]})", selected);
    }

    [Fact]
    public void Every_result_type_has_a_view_through_LensViews()
    {
        Assert.All(LensViews.SupportedTypes, t => Assert.True(LensViews.Supports(t)));
        Assert.Equal("Hidden states", LensViews.Of(tiny.Lens.HiddenStates("Hi")).Title);
        Assert.Equal("Attention heads", LensViews.Of(tiny.Lens.Attention("Hi there")).Title);
        var prompt = tiny.Lens.Prompt("Hi there");
        Assert.Equal(TokensView.Create(prompt).Text, LensViews.ToText(prompt));
        var error = Assert.Throws<ArgumentException>(() => LensViews.Of(42));
        Assert.Contains("LogitLensResult", error.Message);
    }
}
