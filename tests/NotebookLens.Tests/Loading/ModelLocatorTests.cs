using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

public class ModelLocatorTests
{
    [Fact]
    public void A_folder_is_used_as_it_is() => Assert.Equal(Fixtures.Llama, ModelLocator.Resolve(Fixtures.Llama));

    [Fact]
    public void An_existing_folder_wins_over_a_hub_id_spelled_the_same()
    {
        // Relative to the working directory, as a person would type it; the hub is never asked.
        var org = "locator-test-" + Guid.NewGuid().ToString("N")[..8];
        var relative = $"{org}/tiny";
        Directory.CreateDirectory(relative);
        try
        {
            var closed = new HubOptions { CacheDir = Fixtures.TempDir(), Endpoint = "http://127.0.0.1:9", Offline = true };
            Assert.Equal(relative, ModelLocator.Resolve(relative, hub: closed));
        }
        finally
        {
            Directory.Delete(org, recursive: true);
        }
    }

    [Theory]
    [InlineData("/no/such/folder")]
    [InlineData("llama-3-local")]
    public void A_missing_folder_that_is_no_hub_id_says_what_to_pass(string model)
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ModelLocator.Resolve(model));
        Assert.StartsWith($"Model folder not found: {model}.", e.Message);
        Assert.Contains("org/name", e.Message);
        Assert.Contains("tiny or tiny-gemma for a model inside NotebookLens", e.Message);
    }

    [Fact]
    public void An_invalid_hub_id_is_explained()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelLocator.Resolve("org/bad--name"));
        Assert.Contains("not a valid Hugging Face model id", e.Message);
    }

    [Fact]
    public void A_hub_id_that_is_neither_cached_nor_on_the_hub_mentions_the_folder_too()
    {
        using var hub = new FakeHub();
        var e = Assert.Throws<HubException>(() => ModelLocator.Resolve("models/llama-local", hub: hub.Options()));
        Assert.Equal(HubErrorKind.RepoNotFound, e.Kind);
        Assert.Contains("There is no folder", e.Message);
        Assert.Contains("llama-local", e.Message);
    }
}
