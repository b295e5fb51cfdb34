using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace NotebookLens.Loading;

/// <summary>A repository at a revision as the hub lists it: the commit the revision names and the paths of its files.</summary>
sealed record HubRepoInfo(string Commit, IReadOnlyList<string> Files)
{
    /// <summary>The hub's JSON answer to a repository listing; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static HubRepoInfo Parse(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var commit = root.GetProperty("sha").GetString() ?? "";
            if (!HubId.IsCommitHash(commit)) throw new InvalidDataException($"'{commit}' is not a commit hash");
            var files = root.GetProperty("siblings").EnumerateArray()
                .Select(s => s.GetProperty("rfilename").GetString() ?? throw new InvalidDataException("a sibling's rfilename is null"))
                .ToList();
            return new HubRepoInfo(commit, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }
}

/// <summary>
/// What a HEAD on a file's resolve URL tells, as huggingface_hub's <c>get_hf_file_metadata</c> reads it: the etag
/// that names its blob (<c>X-Linked-Etag</c>, the sha256 of an LFS file, else <c>ETag</c>, the git blob sha1), its
/// size (<c>X-Linked-Size</c>, else <c>Content-Length</c>) and where to GET it (the CDN for LFS files).
/// </summary>
sealed record HubFileInfo(string File, string Etag, long Size, Uri Location);

/// <summary>The hub's HTTP interface: repository listing, file metadata and (ranged) file downloads, with errors a person can act on.</summary>
sealed class HubClient : IDisposable
{
    const int MaxRedirects = 10;

    readonly HubOptions _options;
    readonly Uri _endpoint;
    readonly HttpClient _http;

    public HubClient(HubOptions options)
    {
        _options = options;
        _endpoint = new Uri(options.Endpoint.TrimEnd('/') + "/");
        // Redirects are followed by hand: the token must never follow a redirect to another host (the CDN's URLs are signed).
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = options.Timeout, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("NotebookLens", typeof(HubClient).Assembly.GetName().Version?.ToString(3)));
    }

    /// <summary><c>GET /api/models/{repo}/revision/{revision}</c>: the commit and the <c>siblings</c>' <c>rfilename</c>s.</summary>
    public async Task<HubRepoInfo> GetRepoInfoAsync(HubId id, CancellationToken cancel)
    {
        var uri = new Uri(_endpoint, $"api/models/{id.RepoId}/revision/{Uri.EscapeDataString(id.Revision)}");
        using var timeout = Deadline(cancel);
        using var response = await SendAsync(HttpMethod.Get, uri, offset: 0, stopAtOtherHost: false, timeout.Token, cancel).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw Failure(response, id);
        try
        {
            return HubRepoInfo.Parse(await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (InvalidDataException e)
        {
            throw new HubException(HubErrorKind.UnexpectedResponse,
                $"The answer of {uri} is not a hub repository listing ({e.Message}). Is HF_ENDPOINT ({_options.Endpoint}) a Hugging Face hub?", e);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw Unreachable(e);
        }
    }

    /// <summary><c>HEAD /{repo}/resolve/{commit}/{file}</c>, following redirects within the hub (renamed repositories) but not to the CDN.</summary>
    public async Task<HubFileInfo> GetFileInfoAsync(HubId id, string commit, string file, CancellationToken cancel)
    {
        var uri = new Uri(_endpoint, $"{id.RepoId}/resolve/{commit}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");
        using var timeout = Deadline(cancel);
        using var response = await SendAsync(HttpMethod.Head, uri, offset: 0, stopAtOtherHost: true, timeout.Token, cancel).ConfigureAwait(false);
        bool redirect = (int)response.StatusCode is >= 300 and < 400;
        if (!response.IsSuccessStatusCode && !redirect) throw Failure(response, id);
        string? Header(string name) => response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;
        var etag = (Header("X-Linked-Etag") ?? Header("ETag"))?.Replace("W/", "", StringComparison.Ordinal).Trim('"');
        var size = long.TryParse(Header("X-Linked-Size"), out var linked) ? linked : redirect ? null : response.Content.Headers.ContentLength;
        string? problem = Header("X-Repo-Commit") is null ? "no X-Repo-Commit header"
            : etag is not { Length: > 0 } ? "no ETag"
            : !etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? $"an ETag that cannot name a file ({etag})"
            : size is null ? "no size (X-Linked-Size or Content-Length)"
            : null;
        if (problem is not null)
            throw new HubException(HubErrorKind.UnexpectedResponse,
                $"The answer for {file} of {id.RepoId} has {problem}, so it does not come from a Hugging Face hub. A proxy or firewall may be answering instead: check the network and HF_ENDPOINT ({_options.Endpoint}).");
        var location = redirect ? new Uri(response.RequestMessage!.RequestUri!, response.Headers.Location!) : response.RequestMessage!.RequestUri!;
        return new HubFileInfo(file, etag!, size!.Value, location);
    }

    /// <summary>
    /// GETs a file from <paramref name="offset"/> on (a <c>Range</c> request when it is not 0). Returns the response,
    /// whose body the caller reads and disposes, and the offset its body starts at: 0 when the server ignored the range.
    /// </summary>
    public async Task<(HttpResponseMessage Response, long Start)> OpenAsync(HubId id, HubFileInfo file, long offset, CancellationToken cancel)
    {
        using var timeout = Deadline(cancel);
        var response = await SendAsync(HttpMethod.Get, file.Location, offset, stopAtOtherHost: false, timeout.Token, cancel).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK) return (response, 0);
        if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == offset) return (response, offset);
        using (response) throw Failure(response, id);
    }

    /// <summary>Sends a request, following up to <see cref="MaxRedirects"/> redirects; the token goes only to the hub itself.</summary>
    async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, long offset, bool stopAtOtherHost, CancellationToken timeout, CancellationToken cancel)
    {
        try
        {
            for (int hop = 0; hop <= MaxRedirects; hop++)
            {
                using var request = new HttpRequestMessage(method, uri);
                if (_options.Token is { } token && IsHub(uri)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout).ConfigureAwait(false);
                if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is not { } location) return response;
                var next = new Uri(uri, location);
                if (stopAtOtherHost && next.Authority != uri.Authority) return response;
                response.Dispose();
                uri = next;
            }
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw Unreachable(e);
        }
        throw new HubException(HubErrorKind.UnexpectedResponse, $"More than {MaxRedirects} redirects from {uri}.");
    }

    bool IsHub(Uri uri) => uri.Scheme == _endpoint.Scheme && uri.Authority == _endpoint.Authority;

    CancellationTokenSource Deadline(CancellationToken cancel)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        source.CancelAfter(_options.Timeout);
        return source;
    }

    HubException Unreachable(Exception e) => new(HubErrorKind.Network,
        $"Cannot reach the Hugging Face hub at {_options.Endpoint} ({(e is OperationCanceledException ? $"no answer within {_options.Timeout.TotalSeconds:0} s" : e.Message)}). " +
        "Check the network connection (and HTTPS_PROXY if you need a proxy), or set HF_HUB_OFFLINE=1 to use only models already in the cache.", e);

    /// <summary>An error response turned into what to do, with huggingface_hub's reading of <c>X-Error-Code</c>.</summary>
    HubException Failure(HttpResponseMessage response, HubId id)
    {
        string? Header(string name) => response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;
        string? code = Header("X-Error-Code"), said = Header("X-Error-Message");
        var status = (int)response.StatusCode;
        var page = $"{_options.Endpoint}/{id.RepoId}";
        var login = $"set HF_TOKEN=hf_... or run `hf auth login` (or `huggingface-cli login`), which stores the token in {_options.TokenFile ?? "$HF_HOME/token"}";
        if (code == "GatedRepo")
            return new HubException(HubErrorKind.Gated, _options.Token is null
                ? $"{id.RepoId} is a gated model: its authors ask you to accept their licence first. Open {page} while logged in and accept it (some authors approve requests by hand), then give NotebookLens a token with read access: {login}. Tokens are made at {_options.Endpoint}/settings/tokens."
                : $"Your token has no access to the gated model {id.RepoId} yet ({said ?? $"{status} {response.ReasonPhrase}"}). Accept its licence at {page} with the account the token belongs to; if you already asked, the authors have not approved the request yet (the page shows its status).");
        if (status == 401 && said == "Invalid credentials in Authorization header")
            return new HubException(HubErrorKind.InvalidToken,
                $"The hub rejected your token as invalid (from HF_TOKEN or {_options.TokenFile ?? "$HF_HOME/token"}). Make a new one at {_options.Endpoint}/settings/tokens, then {login}.");
        if (code == "RevisionNotFound")
            return new HubException(HubErrorKind.RevisionNotFound,
                $"{id.RepoId} has no revision '{id.Revision}'. Give a branch, a tag or a commit hash after '@'; {page}/tree/main lists them.");
        // The hub answers 401 for a repository that does not exist when no token is sent, not to reveal private ones.
        if (code == "RepoNotFound" || (status is 401 or 404 && IsHub(response.RequestMessage!.RequestUri!)))
            return new HubException(HubErrorKind.RepoNotFound,
                $"There is no model {id.RepoId} on {_options.Endpoint}{(_options.Token is null ? " (at least none visible without a token)" : "")}. Check the id: org/name as in the address of the model page. A private model needs a token with access to it: {login}.");
        return new HubException(HubErrorKind.UnexpectedResponse,
            $"The hub answered {status} {response.ReasonPhrase} for {response.RequestMessage?.RequestUri}{(said is null ? "" : $": {said}")}. Try again later.");
    }

    public void Dispose() => _http.Dispose();
}
