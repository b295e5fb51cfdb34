using PuppeteerSharp;

namespace NotebookLens.Notebooks.Tests;

/// <summary>An executed notebook's standalone HTML page (build/notebook-html.sh, as build/run.sh makes them) in headless Chromium.</summary>
public static class NotebookPage
{
    const string Charts = "document.querySelectorAll('.nl-chart').length";
    /// <summary>Chart hosts holding Plotly's SVG (a drawn chart has several <c>.main-svg</c> layers).</summary>
    const string Drawn = "[...document.querySelectorAll('.nl-chart')].filter(c => c.querySelector('.main-svg')).length";

    /// <summary>Writes NAME.html beside the executed NAME.ipynb; its path.</summary>
    public static async Task<string> ExportAsync(PackedFeed feed, ExecutedNotebook notebook)
    {
        var (exit, log) = await feed.RunAsync("bash", [Path.Combine(Repo.Root, "build", "notebook-html.sh"), notebook.Path]);
        var html = Path.ChangeExtension(notebook.Path, ".html");
        Assert.True(exit == 0 && File.Exists(html), log);
        return html;
    }

    /// <summary>Opens the page and waits until every chart drew, with no script error and no request off the machine.</summary>
    public static async Task<OpenedPage> OpenDrawnAsync(HeadlessBrowser browser, string html)
    {
        var opened = await browser.OpenAsync(html);
        int charts = await opened.Page.EvaluateExpressionAsync<int>(Charts);
        Assert.True(charts > 0, $"{html} has no chart");
        try
        {
            await opened.Page.WaitForExpressionAsync($"{Drawn} === {charts}", new WaitForFunctionOptions { Timeout = 60_000 });
        }
        catch (WaitTaskTimeoutException)
        {
            Assert.Fail($"{await opened.Page.EvaluateExpressionAsync<int>(Drawn)} of {charts} charts drew in {html}; errors: {string.Join("\n", opened.Errors)}");
        }
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
        return opened;
    }

    /// <summary>The outputs of the page's cell at this index (the page keeps the notebook's cell order, not its ids).</summary>
    public static async Task<IElementHandle> OutputsAsync(OpenedPage page, int cellIndex)
    {
        var cells = await page.Page.QuerySelectorAllAsync(".jp-Cell");
        return await cells[cellIndex].QuerySelectorAsync(".jp-OutputArea")
            ?? throw new InvalidOperationException($"cell {cellIndex} of the page has no outputs");
    }
}
