using NotebookLens.Views.Html;
using PuppeteerSharp;

namespace NotebookLens.Views.Tests;

/// <summary>
/// Notebook outputs as a front end places them: one page, outputs one after the other, maybe with require.js's
/// <c>define</c> present (Jupyter), maybe rendered out of order (VS Code renders outputs as they scroll into view),
/// maybe without the output that carried plotly.js (cleared, or the notebook reopened).
/// </summary>
[Collection(TinyCollection.Name)]
public class NotebookOutputBrowserTests(TinyModel tiny) : IAsyncLifetime
{
    readonly HeadlessBrowser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    /// <summary>An AMD loader as require.js leaves it: a global <c>define</c> with <c>define.amd</c>.</summary>
    const string AmdLoader = "window.define = function (deps, factory) { window.amdModules = (window.amdModules || 0) + 1; }; window.define.amd = {};";

    /// <summary>How many chart hosts hold Plotly's SVG (a chart has several <c>.main-svg</c> layers).</summary>
    const string DrawnCharts = "[...document.querySelectorAll('.nl-chart')].filter(c => c.querySelector('.main-svg')).length";

    string Page(string name, params string[] outputs)
    {
        var html = new HtmlBuilder().Raw("<!DOCTYPE html>").Open("html").Open("head").Void("meta", ("charset", "utf-8")).Script(AmdLoader).Close("head").Open("body");
        foreach (var output in outputs) html.Element("div", o => o.Raw(output), Attr.Class("output"));
        html.Close("body").Close("html");
        var path = Path.Combine(Repo.Artifacts, "notebook", name + ".html");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, html.ToString());
        return path;
    }

    [Fact]
    public async Task The_first_chart_output_carries_plotly_as_a_global_even_under_require_js_and_later_outputs_use_it()
    {
        var session = new NotebookOutput();
        var first = session.Render(LensViews.Of(tiny.Lens.Temperatures("The weather is really", 0.5, 1)));
        var second = session.Render(LensViews.Of(tiny.Lens.HiddenStates("The weather")));
        var opened = await _browser.OpenAsync(Page("amd-two-outputs", first, second));
        await opened.Page.WaitForExpressionAsync(DrawnCharts + " === 2", new WaitForFunctionOptions { Timeout = 30_000 });
        Assert.True(await opened.Page.EvaluateExpressionAsync<bool>("typeof window.define === 'function' && !!window.define.amd && !window.amdModules"));
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
    }

    [Fact]
    public async Task A_chart_rendered_before_the_output_carrying_plotly_draws_when_it_arrives()
    {
        var session = new NotebookOutput();
        var carrier = session.Render(LensViews.Of(tiny.Lens.Temperatures("The weather is really", 1)));
        var later = session.Render(LensViews.Of(tiny.Lens.HiddenStates("The weather")));
        var path = Page("out-of-order", later);
        var opened = await _browser.OpenAsync(path);
        await Task.Delay(500);
        Assert.Equal(0, await opened.Page.EvaluateExpressionAsync<int>(DrawnCharts));
        // The front end renders the earlier output now (as VS Code does when it scrolls into view) and runs its scripts in order, as Jupyter does.
        await opened.Page.EvaluateFunctionAsync(@"html => {
            const holder = document.createElement('div');
            holder.innerHTML = html;
            document.body.prepend(holder);
            for (const old of [...holder.querySelectorAll('script')]) {
                if (old.closest('template')) continue;
                const s = document.createElement('script');
                s.text = old.text;
                old.replaceWith(s);
            }
        }", carrier);
        await opened.Page.WaitForExpressionAsync(DrawnCharts + " === 2", new WaitForFunctionOptions { Timeout = 30_000 });
        Assert.Empty(opened.Errors);
    }

    [Fact]
    public async Task Without_the_carrier_a_chart_says_what_to_do_instead_of_failing()
    {
        var session = new NotebookOutput();
        session.Render(LensViews.Of(tiny.Lens.Temperatures("The weather is really", 1)));   // carried plotly, then cleared
        var orphan = session.Render(LensViews.Of(tiny.Lens.HiddenStates("The weather")));
        var opened = await _browser.OpenAsync(Page("orphan", orphan));
        await opened.Page.WaitForSelectorAsync(".nl-chart-missing", new WaitForSelectorOptions { Timeout = 10_000 });
        Assert.Contains("run the cell again", await opened.Page.EvaluateExpressionAsync<string>("document.querySelector('.nl-chart-missing').textContent"));
        await opened.ScreenshotAsync("notebook-orphan-chart");
        Assert.Empty(opened.Errors);
    }

    [Fact]
    public async Task A_report_reads_in_a_dark_theme()
    {
        var report = new HtmlReport("Dark theme").Add(tiny.Lens.LogitLens("The weather is really")).Add(tiny.Lens.Temperatures("The weather is really", 0.5, 1, 2))
            .Add(tiny.Lens.Prompt("The forecast says rain."));
        var path = report.Save(Path.Combine(Repo.Artifacts, "reports", "dark.html"));
        var opened = await _browser.OpenAsync(path, darkScheme: true);
        await opened.Page.WaitForSelectorAsync(".nl-chart .main-svg", new WaitForSelectorOptions { Timeout = 30_000 });
        await opened.ScreenshotAsync("report-dark");
        var color = await opened.Page.EvaluateExpressionAsync<string>("getComputedStyle(document.body).backgroundColor");
        Assert.Equal("rgb(13, 17, 23)", color);
        // Plotly's text follows the page's text colour.
        Assert.Equal(await opened.Page.EvaluateExpressionAsync<string>("getComputedStyle(document.body).color"),
            await opened.Page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('.main-svg .xtick text')).fill"));
        Assert.Empty(opened.Errors);
    }
}
