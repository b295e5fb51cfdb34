using System.Diagnostics;
using System.Text.Json;
using NotebookLens.Cli;
using NotebookLens.Loading;
using NotebookLens.Tests.Loading;

namespace NotebookLens.Tests.Cli;

/// <summary>
/// The CLI with hub ids, run as its own process so the environment variables (HF_HOME, HF_ENDPOINT,
/// HF_HUB_OFFLINE, HF_TOKEN) are read as a person's shell would set them, against the fake hub.
/// </summary>
public class CliHubTests
{
    static (int Code, string Out, string Err) Cli(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(CliApp).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN_PATH" })
            psi.Environment.Remove(name);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"NotebookLens.Cli {string.Join(' ', args)} did not finish within 90 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Download_puts_a_model_in_the_cache_and_every_verb_finds_it_there_offline()
    {
        using var hub = new FakeHub(FakeRepo.FromFolder("test-org/tiny-llama", Fixtures.Llama));
        var home = Fixtures.TempDir();
        var online = new Dictionary<string, string?> { ["HF_HOME"] = home, ["HF_ENDPOINT"] = hub.Endpoint };
        var snapshot = Path.Combine(home, "hub", "models--test-org--tiny-llama", "snapshots", FakeRepo.Commit);

        var (code, output, error) = Cli(online, "download", "--model", "test-org/tiny-llama");
        Assert.True(code == 0, error);
        Assert.Equal(snapshot, output.Trim());
        Assert.Contains("downloading test-org/tiny-llama: 5 files, 25.7 MB", error);
        Assert.Contains("[5/5]", error);
        Assert.Contains("downloaded 25.7 MB (", error);

        hub.Requests.Clear();
        (code, output, error) = Cli(online, "download", "--model", "test-org/tiny-llama", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(FakeRepo.Commit, json.RootElement.GetProperty("commit").GetString());
        Assert.Equal(snapshot, json.RootElement.GetProperty("folder").GetString());
        Assert.Equal("", error);
        Assert.Empty(hub.Requests);

        var offline = new Dictionary<string, string?>(online) { ["HF_HUB_OFFLINE"] = "1" };
        (code, output, error) = Cli(offline, "info", "--model", "test-org/tiny-llama", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(8_282_432, JsonDocument.Parse(output).RootElement.GetProperty("num_parameters").GetInt64());
        (code, output, error) = Cli(offline, "tokenize", "--model", "test-org/tiny-llama", "--text", "Hello");
        Assert.True(code == 0, error);
        Assert.Contains("9906", output);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void A_gated_model_exits_1_and_the_token_file_of_a_login_opens_it()
    {
        using var hub = new FakeHub(new FakeRepo("test-org/gated-llama", FakeRepo.FromFolder("test-org/tiny-llama", Fixtures.Llama).Files) { Token = "hf_granted" });
        var home = Fixtures.TempDir();
        var environment = new Dictionary<string, string?> { ["HF_HOME"] = home, ["HF_ENDPOINT"] = hub.Endpoint };

        var (code, _, error) = Cli(environment, "info", "--model", "test-org/gated-llama");
        Assert.Equal(1, code);
        Assert.Contains("gated model", error);
        Assert.Contains(Path.Combine(home, "token"), error);

        File.WriteAllText(Path.Combine(home, "token"), "hf_granted");
        (code, _, error) = Cli(environment, "download", "--model", "test-org/gated-llama", "--tokenizer-only");
        Assert.True(code == 0, error);
    }

    [Fact]
    public void Offline_without_the_model_exits_1_with_what_to_do()
    {
        var environment = new Dictionary<string, string?> { ["HF_HOME"] = Fixtures.TempDir(), ["HF_HUB_OFFLINE"] = "1", ["HF_ENDPOINT"] = "http://127.0.0.1:9" };
        var (code, _, error) = Cli(environment, "generate", "--model", "test-org/tiny-llama", "--text", "Hi", "--max-new-tokens", "1");
        Assert.Equal(1, code);
        Assert.Contains("offline mode is on", error);
        Assert.Contains("download --model test-org/tiny-llama", error);
    }

    [Fact]
    public void The_live_progress_line_shows_bar_bytes_rate_and_time_left()
    {
        var line = DownloadReporter.Line(new DownloadProgress("org/m", "model.safetensors", 2, 3, 500_000_000, 2_000_000_000, 25_000_000, TimeSpan.FromSeconds(60), false));
        Assert.Equal("[######------------------]  25%  500.0 MB / 2.0 GB  25.0 MB/s  1:00 left  model.safetensors (2/3)", line);
    }

    [Theory]
    [InlineData(new[] { "download", "--model", "./some/folder" }, "takes a Hugging Face hub id")]
    [InlineData(new[] { "download" }, "Option '--model' is required")]
    public void Download_usage_mistakes_exit_2(string[] args, string message)
    {
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(args, new StringReader(""), new StringWriter(), error));
        Assert.Contains(message, error.ToString());
    }
}
