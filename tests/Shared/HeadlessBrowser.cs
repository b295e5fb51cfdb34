using PuppeteerSharp;

namespace NotebookLens.Testing;

/// <summary>
/// Debian's headless Chromium driven by PuppeteerSharp (no browser download: build/test.sh installs the
/// <c>chromium</c> package). Each page records console errors, page errors and every request that is not
/// file: or data: — which it blocks, so a page that tried to reach the network shows it.
/// </summary>
public sealed class HeadlessBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    IBrowser? _browser;
    string? _profile;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it with `apt-get update && apt-get install -y chromium` (build/test.sh does).");
        _profile = Directory.CreateTempSubdirectory("nl-chromium-").FullName;
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            UserDataDir = _profile,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
    }

    /// <summary>Opens a file and waits for its load event; what went wrong is in the returned page's lists.</summary>
    public async Task<OpenedPage> OpenAsync(string path, int width = 1280, int height = 900, bool darkScheme = false)
    {
        var page = await _browser!.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        if (darkScheme) await page.EmulateMediaFeaturesAsync([new MediaFeatureValue { MediaFeature = MediaFeature.PrefersColorScheme, Value = "dark" }]);
        var opened = new OpenedPage(page);
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) opened.Errors.Add("console: " + e.Message.Text); };
        page.PageError += (_, e) => opened.Errors.Add("page: " + e.Message);
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            var url = e.Request.Url;
            if (url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal))
                await e.Request.ContinueAsync();
            else
            {
                opened.ExternalRequests.Add(url);
                await e.Request.AbortAsync();
            }
        };
        await page.GoToAsync(new Uri(Path.GetFullPath(path)).AbsoluteUri, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 120_000 });
        return opened;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        if (_profile is not null) try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}

public sealed class OpenedPage(IPage page)
{
    public IPage Page { get; } = page;

    public List<string> Errors { get; } = [];

    public List<string> ExternalRequests { get; } = [];

    /// <summary>Saves a full-page screenshot under artifacts/screenshots/ at the repository root.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(Repo.Artifacts, "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await Page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
        return path;
    }

    /// <summary>One screenshot per report section (<c>name-01.png</c>, …), each readable on its own.</summary>
    public async Task ScreenshotSectionsAsync(string name)
    {
        var sections = await Page.QuerySelectorAllAsync("main > section");
        for (int i = 0; i < sections.Length; i++)
        {
            var path = Path.Combine(Repo.Artifacts, "screenshots", $"{name}-{i + 1:00}.png");
            await sections[i].ScreenshotAsync(path);
        }
    }
}
