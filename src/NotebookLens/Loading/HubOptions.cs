namespace NotebookLens.Loading;

/// <summary>
/// Where models from the Hugging Face hub are cached and how the hub is reached. <see cref="FromEnvironment()"/>
/// reads the same environment variables as Python's huggingface_hub, so both share one cache and one login.
/// </summary>
public sealed record HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub cache folder that holds <c>models--org--name</c> folders (<c>~/.cache/huggingface/hub</c> by default).</summary>
    public required string CacheDir { get; init; }

    /// <summary>The hub's address, without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>A user access token for gated and private models (sent only to <see cref="Endpoint"/>), or null.</summary>
    public string? Token { get; init; }

    /// <summary>Where <c>hf auth login</c> / <c>huggingface-cli login</c> stores the token; error messages point there.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Use only the cache and never contact the hub (<c>HF_HUB_OFFLINE=1</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>
    /// Ask the hub which commit the revision names now even when the cache already has a snapshot for it.
    /// Without this a cached model is used without any request.
    /// </summary>
    public bool Refresh { get; init; }

    /// <summary>How long to wait for the hub to answer, and for each read of a download, before giving up or retrying.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The settings huggingface_hub would use: <c>HF_HUB_CACHE</c> (or <c>HUGGINGFACE_HUB_CACHE</c>, else
    /// <c>$HF_HOME/hub</c>, with <c>HF_HOME</c> defaulting to <c>$XDG_CACHE_HOME/huggingface</c> or <c>~/.cache/huggingface</c>),
    /// <c>HF_ENDPOINT</c>, <c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>), <c>HF_HUB_DOWNLOAD_TIMEOUT</c>, and the token from
    /// <c>HF_TOKEN</c> (or <c>HUGGING_FACE_HUB_TOKEN</c>), else the file <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>.
    /// </summary>
    public static HubOptions FromEnvironment() =>
        FromEnvironment(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static HubOptions FromEnvironment(Func<string, string?> variable, string home)
    {
        string? Get(string name) => variable(name) is { Length: > 0 } value ? value : null;
        string Expand(string path) => path == "~" ? home : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..]) : path;

        var hfHome = Expand(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache"), "huggingface"));
        var tokenFile = Expand(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"));
        var timeout = int.TryParse(Get("HF_HUB_DOWNLOAD_TIMEOUT"), out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var options = new HubOptions
        {
            CacheDir = Expand(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub")),
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            Token = CleanToken(Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN")) ?? CleanToken(File.Exists(tokenFile) ? File.ReadAllText(tokenFile) : null),
            TokenFile = tokenFile,
            Offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE")),
        };
        return timeout is { } t ? options with { Timeout = t } : options;
    }

    static string? CleanToken(string? token) => token?.Trim() is { Length: > 0 } t ? t : null;

    static bool IsTrue(string? value) => value?.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
