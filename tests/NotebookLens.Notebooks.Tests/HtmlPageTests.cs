namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// Lecture notebooks' standalone pages, as build/run.sh exports them from dotnet-repl's run, in headless Chromium:
/// every chart draws offline; the outputs the README shows are screenshotted (artifacts/screenshots/, and the folder
/// named by NOTEBOOKLENS_SCREENSHOTS, relative to the repository: `NOTEBOOKLENS_SCREENSHOTS=docs` refreshes docs/).
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class HtmlPageTests(NotebookRuns runs) : IAsyncLifetime
{
    /// <summary>The README's screenshots: the notebook, the cell whose outputs it shows, the file.</summary>
    static readonly (string Notebook, string Cell, string File)[] ReadmeScreenshots =
    [
        ("03-logit-lens", "good", "notebook-logit-lens.png"),
        ("02-representations", "two-senses", "notebook-two-senses.png"),
    ];

    readonly HeadlessBrowser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task The_pages_draw_their_charts_offline_and_show_the_readme_outputs()
    {
        var charts = 0;
        foreach (var shots in ReadmeScreenshots.GroupBy(s => s.Notebook))
        {
            var notebook = await runs.Executed(shots.Key, Runner.DotnetRepl);
            notebook.AssertRanWithoutErrors();
            var (page, drawn) = await NotebookPage.OpenDrawnAsync(_browser, await NotebookPage.ExportAsync(runs.Feed, notebook));
            charts += drawn;
            await page.ScreenshotAsync("notebook-" + notebook.Name);
            foreach (var (_, cell, file) in shots)
            {
                var index = notebook.Cells.ToList().IndexOf(notebook.Cell(cell));
                var outputs = await NotebookPage.OutputsAsync(page, index);
                var path = Path.Combine(Repo.Artifacts, "screenshots", file);
                await outputs.ScreenshotAsync(path);
                if (Environment.GetEnvironmentVariable("NOTEBOOKLENS_SCREENSHOTS") is { Length: > 0 } folder)
                    File.Copy(path, Path.Combine(Repo.Root, folder, file), overwrite: true);
            }
        }
        Assert.True(charts > 0, "the pages have no chart");
    }
}
