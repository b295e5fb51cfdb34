using System.Diagnostics;

namespace NotebookLens.Views.Tests;

/// <summary>The file-based example <c>examples/lesson.cs</c> runs with <c>dotnet run</c> and writes a report that draws offline.</summary>
[Collection(TinyCollection.Name)]
public class ExampleTests(TinyModel tiny) : IAsyncLifetime
{
    readonly HeadlessBrowser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task The_lesson_example_writes_a_report_that_draws_offline()
    {
        var output = Path.Combine(Repo.Artifacts, "reports", "lesson.html");
        // A fresh clone has no artifacts folder: the example must make it.
        if (File.Exists(output)) File.Delete(output);
        var start = new ProcessStartInfo("dotnet", ["run", "examples/lesson.cs", "--", output])
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        var text = await stdout;
        Assert.Contains("Logit lens\n----------", text);
        Assert.Contains($"wrote {output}", text);

        var opened = await _browser.OpenAsync(output);
        await opened.Page.WaitForExpressionAsync("[...document.querySelectorAll('.nl-chart')].filter(c => c.querySelector('.main-svg')).length === 3",
            new PuppeteerSharp.WaitForFunctionOptions { Timeout = 60_000 });   // two similarity charts, the temperatures
        var config = tiny.Lens.Config;
        Assert.Equal(config.NumLayers * config.NumHeads, await opened.Page.EvaluateExpressionAsync<int>("document.querySelectorAll('.nl-attention-grid img').length"));
        await opened.ScreenshotAsync("lesson");
        Assert.Empty(opened.Errors);
        Assert.Empty(opened.ExternalRequests);
    }
}
