using static TorchSharp.torch;

namespace NotebookLens.Views.Tests;

[Collection(TinyCollection.Name)]
public class BrowserSmokeTests(TinyModel tiny) : IAsyncLifetime
{
    readonly Browser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task A_weight_heatmap_draws_offline()
    {
        using var weight = tiny.Lens.Model.Parameter("model.layers.5.mlp.up_proj.weight");
        var report = new HtmlReport("Smoke").Add(TensorView.Create(weight, "model.layers.5.mlp.up_proj.weight"))
            .Add(tiny.Lens).Add(TokensView.Create(tiny.Lens.Tokenizer.Tokenize("The weather is nice. <script>alert(1)</script>")));
        var path = report.Save(Path.Combine(Paths.Artifacts, "reports", "smoke.html"));
        var opened = await _browser.OpenAsync(path);
        await opened.Page.WaitForSelectorAsync(".main-svg", new() { Timeout = 30_000 });
        await opened.ScreenshotAsync("smoke");
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
    }
}
