using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

/// <summary>
/// huggingface_hub's environment variables, read through a lookup the test supplies: no test changes the
/// process environment, so these run alongside the others.
/// </summary>
public class HubOptionsTests
{
    const string Home = "/home/student";

    static HubOptions Read(params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        return HubOptions.FromEnvironment(name => env.GetValueOrDefault(name), Home);
    }

    [Fact]
    public void Defaults_are_huggingface_hubs()
    {
        var o = Read();
        Assert.Equal("/home/student/.cache/huggingface/hub", o.CacheDir);
        Assert.Equal("/home/student/.cache/huggingface/token", o.TokenFile);
        Assert.Equal("https://huggingface.co", o.Endpoint);
        Assert.Null(o.Token);
        Assert.False(o.Offline);
        Assert.Equal(TimeSpan.FromSeconds(10), o.Timeout);
    }

    [Fact]
    public void HF_HOME_moves_the_cache_and_the_token_file()
    {
        var o = Read(("HF_HOME", "/data/hf"), ("XDG_CACHE_HOME", "/xdg"));
        Assert.Equal("/data/hf/hub", o.CacheDir);
        Assert.Equal("/data/hf/token", o.TokenFile);
        Assert.Equal("/xdg/huggingface/hub", Read(("XDG_CACHE_HOME", "/xdg")).CacheDir);
        Assert.Equal("/home/student/hf/hub", Read(("HF_HOME", "~/hf")).CacheDir);
    }

    [Fact]
    public void HF_HUB_CACHE_wins_over_the_legacy_name_and_HF_HOME()
    {
        Assert.Equal("/fast/hub", Read(("HF_HUB_CACHE", "/fast/hub"), ("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HOME", "/data/hf")).CacheDir);
        Assert.Equal("/old", Read(("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HOME", "/data/hf")).CacheDir);
        Assert.Equal("/data/hf/hub", Read(("HF_HUB_CACHE", ""), ("HF_HOME", "/data/hf")).CacheDir);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("True", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    public void HF_HUB_OFFLINE_takes_huggingface_hubs_true_values(string value, bool offline)
    {
        Assert.Equal(offline, Read(("HF_HUB_OFFLINE", value)).Offline);
        Assert.Equal(offline, Read(("TRANSFORMERS_OFFLINE", value)).Offline);
    }

    [Fact]
    public void The_token_comes_from_HF_TOKEN_else_from_the_login_file()
    {
        var home = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
        string? Token(params (string, string)[] more) =>
            Read([("HF_HOME", home), .. more]).Token;

        Assert.Equal("hf_from_file", Token());
        Assert.Equal("hf_from_env", Token(("HF_TOKEN", " hf_from_env ")));
        Assert.Equal("hf_legacy", Token(("HUGGING_FACE_HUB_TOKEN", "hf_legacy")));
        Assert.Equal("hf_from_file", Token(("HF_TOKEN", "   ")));
        var elsewhere = Path.Combine(home, "elsewhere");
        File.WriteAllText(elsewhere, "hf_elsewhere");
        Assert.Equal("hf_elsewhere", Token(("HF_TOKEN_PATH", elsewhere)));
        Assert.Null(Read(("HF_HOME", Fixtures.TempDir())).Token);
    }

    [Fact]
    public void HF_ENDPOINT_and_the_download_timeout_are_read()
    {
        var o = Read(("HF_ENDPOINT", "http://127.0.0.1:8080/"), ("HF_HUB_DOWNLOAD_TIMEOUT", "42"));
        Assert.Equal("http://127.0.0.1:8080", o.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(42), o.Timeout);
    }
}
