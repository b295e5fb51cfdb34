using System.Diagnostics;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace NotebookLens.Views.Tests;

/// <summary>
/// Reports opened in headless Chromium: every chart drew (Plotly's SVG in its host), no script error, no request
/// left the machine; screenshots go to artifacts/screenshots/ for a person to look at.
/// </summary>
[Collection(TinyCollection.Name)]
public class BrowserReportTests(TinyModel tiny, ITestOutputHelper output) : IAsyncLifetime
{
    readonly HeadlessBrowser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task Attention_grid_logit_lens_and_similarity_from_tiny_draw_offline()
    {
        var lens = tiny.Lens;
        var attention = lens.Attention("The ball is green. The ball has the color");
        var report = new HtmlReport("tiny: attention, logit lens, similarity")
            .Add(AttentionView.Grid(attention))
            .Add(AttentionView.Head(attention, 4, 0))
            .Add(AttentionView.FirstToken(attention))
            .Add(lens.LogitLens("The weather is really", new LogitLensOptions { Targets = [" good"] }))
            .Add(lens.Similarity(
            [
                new("I ate an apple for breakfast.", "apple"), new("She baked an apple pie.", "apple"),
                new("The new phone from Apple is fast.", "Apple"), new("He bought Apple shares today.", "Apple"),
            ]));
        var path = report.Save(Path.Combine(Repo.Artifacts, "reports", "tiny-report.html"));
        var opened = await _browser.OpenAsync(path);
        var charts = await AwaitChartsAsync(opened, expected: 4);
        Assert.Equal(4, charts);
        Assert.Equal(1, await opened.Page.EvaluateExpressionAsync<int>("[...document.scripts].filter(s => s.text.includes('plotly.js v2.28.0')).length"));
        Assert.Equal("2.28.0", await opened.Page.EvaluateExpressionAsync<string>("window.Plotly.version"));
        Assert.Equal(lens.Config.NumLayers * lens.Config.NumHeads, await opened.Page.EvaluateExpressionAsync<int>("document.querySelectorAll('.nl-attention-grid img').length"));
        await OpenHeadAsync(opened, layer: 4, head: 1);
        await opened.ScreenshotAsync("tiny-report");
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
    }

    /// <summary>Every view of tiny in one report: each chart draws, nothing else breaks; the screenshot is for a person to look at.</summary>
    [Fact]
    public async Task Every_view_of_tiny_draws_in_one_report()
    {
        var lens = tiny.Lens;
        using var weight = lens.Weight("model.layers.5.mlp.up_proj.weight");
        var attention = lens.Attention("The ball is green. The ball has the color");
        var refusal = lens.Refusal(new RefusalExperimentOptions
        {
            TestCount = 3, MaxNewTokens = 16,
        });
        var report = new HtmlReport("Every view of tiny")
            .Add(lens)
            .Add(TensorView.Create(weight, "model.layers.5.mlp.up_proj.weight"))
            .Add(lens.Prompt("天氣預報說明天會下雨。 The forecast says <rain>."))
            .Add(lens.ChatPrompt("What color is the sky?"))
            .Add(lens.Neighbors(" cold", 8))
            .Add(lens.Arithmetic("冷 - cold + small", 8))
            .Add(lens.HiddenStates("The weather is really good"))
            .Add(lens.LogitLens("天氣預報說明天會下", new LogitLensOptions { Targets = ["雨"] }))
            .Add(AttentionView.TopHeads(attention, attention.Prompt.Locate("color"), attention.Prompt.Locate("green")))
            .Add(lens.Neurons("The weather is really good", 3, 6))
            .Add(lens.Pca(3, ["I ate an apple.", "She baked an apple pie.", "An apple a day.", "Apple makes phones.", "He bought Apple shares.", "Apple stock fell."], "pple"))
            .Add(lens.Temperatures("The weather is really", 0.5, 1, 2))
            .Add(GenerationView.Create(lens.Generate(lens.ChatPrompt("What color is the sky?"), new GenerationOptions { MaxNewTokens = 24 }), lens))
            .Add(lens.Patchscope(new PatchscopeSource("I ate an apple.") { Token = "apple" }))
            .Add(refusal);
        var path = report.Save(Path.Combine(Repo.Artifacts, "reports", "tiny-all-views.html"));
        File.WriteAllText(Path.ChangeExtension(path, ".txt"), report.ToText());
        var opened = await _browser.OpenAsync(path);
        int expected = 1 + 1 + 1 + 1 + 3;   // weight, hidden states, PCA, temperatures, three refusal charts
        Assert.Equal(expected, await AwaitChartsAsync(opened, expected));
        await opened.ScreenshotAsync("tiny-all-views");
        await opened.ScreenshotSectionsAsync("tiny-all-views");
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
    }

    /// <summary>The size: 34 layers x 8 heads of a 200-token prompt (random causal rows) must stay responsive.</summary>
    [Fact]
    public async Task A_34_layer_8_head_200_token_grid_loads_and_opens_a_head_quickly()
    {
        const int layers = 34, heads = 8, tokens = 200;
        var values = RandomCausalMaps(layers, heads, tokens, seed: 7);
        var labels = Enumerable.Range(0, tokens).Select(i => i % 17 == 0 ? "<script>" : $" w{i}").ToList();
        var clock = Stopwatch.StartNew();
        var view = AttentionView.Grid(SyntheticAttention(labels, layers, heads, values));
        var path = new HtmlReport("34 x 8 heads, 200 tokens").Add(view).Save(Path.Combine(Repo.Artifacts, "reports", "attention-34x8x200.html"));
        var built = clock.Elapsed;
        long bytes = new FileInfo(path).Length;
        clock.Restart();
        var opened = await _browser.OpenAsync(path);
        var loaded = clock.Elapsed;
        clock.Restart();
        await OpenHeadAsync(opened, layer: 33, head: 7);
        var zoomed = clock.Elapsed;
        output.WriteLine($"grid built in {built.TotalSeconds:F2} s, page {bytes / 1e6:F1} MB, loaded in {loaded.TotalSeconds:F2} s, head opened in {zoomed.TotalSeconds:F2} s");
        await opened.ScreenshotAsync("attention-34x8x200");
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
        Assert.True(bytes < 25_000_000, $"{bytes} bytes");
        Assert.True(loaded < TimeSpan.FromSeconds(20), $"loaded in {loaded}");
        Assert.True(zoomed < TimeSpan.FromSeconds(10), $"head opened in {zoomed}");
    }

    static List<float[]> RandomCausalMaps(int layers, int heads, int t, int seed)
    {
        var random = new Random(seed);
        var maps = new List<float[]>();
        for (int m = 0; m < layers * heads; m++)
        {
            var map = new float[t * t];
            for (int q = 0; q < t; q++)
            {
                double sum = 0;
                for (int k = 0; k <= q; k++) sum += map[q * t + k] = (float)Math.Pow(random.NextDouble(), 8);
                for (int k = 0; k <= q; k++) map[q * t + k] = (float)(map[q * t + k] / sum);
            }
            maps.Add(map);
        }
        return maps;
    }

    static AttentionResult SyntheticAttention(IReadOnlyList<string> labels, int layers, int heads, List<float[]> maps)
    {
        var tokens = labels.Select((text, i) => new PromptToken(i, i, text, text, false, 0, 0)).ToList();
        return new AttentionResult(new ModelRef("synthetic", "test", "llama", "float32", "cpu"), new Prompt(string.Concat(labels), tokens, PromptKind.Ids), layers, heads, maps);
    }

    /// <summary>Waits until every chart host holds Plotly's SVG; returns how many do.</summary>
    static async Task<int> AwaitChartsAsync(OpenedPage opened, int expected)
    {
        await opened.Page.WaitForFunctionAsync($"() => document.querySelectorAll('.nl-chart .main-svg').length >= {expected}", new WaitForFunctionOptions { Timeout = 60_000 });
        return await opened.Page.EvaluateExpressionAsync<int>("[...document.querySelectorAll('.nl-chart')].filter(c => c.querySelector('.main-svg')).length");
    }

    static async Task OpenHeadAsync(OpenedPage opened, int layer, int head)
    {
        await opened.Page.ClickAsync($".nl-attention-grid img[data-layer='{layer}'][data-head='{head}']");
        await opened.Page.WaitForSelectorAsync(".nl-head-zoom .main-svg", new WaitForSelectorOptions { Timeout = 30_000 });
    }
}
