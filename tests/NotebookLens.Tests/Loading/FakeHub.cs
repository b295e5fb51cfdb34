using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

/// <summary>A file of a fake repository, and the etag the hub gives it: sha256 for LFS files, the git blob id for the others.</summary>
public sealed class FakeFile(byte[] content, bool lfs)
{
    public byte[] Content { get; } = content;
    public bool Lfs { get; } = lfs;
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(content));
    public string GitBlobId { get; } = GitId(content);
    public string Etag => Lfs ? Sha256 : GitBlobId;

    /// <summary>The git id of the LFS pointer file, which is the plain <c>ETag</c> of an LFS file on the hub.</summary>
    public string PointerId => GitId(Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{Sha256}\nsize {Content.Length}\n"));

    static string GitId(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.ASCII.GetBytes($"blob {content.Length}\0").Concat(content).ToArray()));
}

/// <summary>A repository on the fake hub: files at one commit, refs naming it, and optionally a gate that needs <see cref="Token"/>.</summary>
public sealed class FakeRepo(string id, IReadOnlyDictionary<string, FakeFile> files)
{
    public const string Commit = "4d2c3f1e0b9a8d7c6b5a49382716f5e4d3c2b1a0";

    static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, FakeFile>> FolderFiles = new();

    public string Id { get; } = id;
    public IReadOnlyDictionary<string, FakeFile> Files { get; } = files;
    public Dictionary<string, string> Refs { get; } = new() { ["main"] = Commit };
    public string? Token { get; init; }

    /// <summary>Every file of a folder (read once per folder), LFS as on the hub: weights, pickles and tokenizer.json.</summary>
    public static FakeRepo FromFolder(string id, string folder, IReadOnlyDictionary<string, byte[]>? extra = null)
    {
        var files = new Dictionary<string, FakeFile>(FolderFiles.GetOrAdd(folder, f => Directory.GetFiles(f).ToDictionary(
            p => Path.GetFileName(p)!, p => new FakeFile(File.ReadAllBytes(p), IsLfs(Path.GetFileName(p))))));
        foreach (var (name, content) in extra ?? new Dictionary<string, byte[]>()) files[name] = new FakeFile(content, IsLfs(name));
        return new FakeRepo(id, files);
    }

    static bool IsLfs(string name) => name is "tokenizer.json" || name.EndsWith(".safetensors") || name.EndsWith(".bin") || name.EndsWith(".pth");
}

/// <summary>One request the fake hub or its CDN received.</summary>
public sealed record FakeRequest(bool Cdn, string Method, string Path, string? Range, string? Authorization);

/// <summary>
/// An in-process Hugging Face hub on 127.0.0.1 (ephemeral ports) with the real hub's response shapes:
/// <c>/api/models/{repo}/revision/{rev}</c> with <c>sha</c> and <c>siblings</c>; <c>HEAD</c>/<c>GET</c>
/// <c>/{repo}/resolve/{rev}/{file}</c> answering small files directly (<c>ETag</c> = git blob id) and LFS files with
/// a 302 to a CDN on another port (<c>X-Linked-Etag</c> = sha256, <c>X-Linked-Size</c>); <c>X-Repo-Commit</c>;
/// <c>Range</c> (206); <c>X-Error-Code</c> for gated (401/403), unknown repository, revision and file. Switches break
/// the next CDN download: cut the connection after N bytes, stall after N bytes, or flip a byte while set.
/// </summary>
public sealed class FakeHub : IDisposable
{
    readonly TcpListener _hub = new(IPAddress.Loopback, 0);
    readonly TcpListener _cdn = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly Dictionary<string, FakeRepo> _repos;
    int _cutAfter = -1, _stallAfter = -1;

    public FakeHub(params FakeRepo[] repos)
    {
        _repos = repos.ToDictionary(r => r.Id);
        _hub.Start();
        _cdn.Start();
        _ = AcceptAsync(_hub, cdn: false);
        _ = AcceptAsync(_cdn, cdn: true);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_hub.LocalEndpoint).Port}";

    string CdnAddress => $"http://127.0.0.1:{((IPEndPoint)_cdn.LocalEndpoint).Port}";

    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    /// <summary>The next CDN download sends this many bytes, then closes the connection.</summary>
    public int CutNextAfter { set => _cutAfter = value; }

    /// <summary>The next CDN download sends this many bytes, then sends nothing more until the client gives up.</summary>
    public int StallNextAfter { set => _stallAfter = value; }

    /// <summary>While set, CDN downloads have one byte changed (the size stays right).</summary>
    public bool Corrupt { get; set; }

    /// <summary>Options for a fresh cache folder pointed at this hub.</summary>
    public HubOptions Options(string? cacheDir = null, string? token = null) => new()
    {
        CacheDir = cacheDir ?? Path.Combine(Fixtures.TempDir(), "hub"),
        Endpoint = Endpoint,
        Token = token,
        TokenFile = "/nonexistent/token",
        Timeout = TimeSpan.FromSeconds(10),
    };

    async Task AcceptAsync(TcpListener listener, bool cdn)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = Task.Run(() => ServeAsync(client, cdn));
        }
    }

    sealed record Response(int Status, Dictionary<string, string> Headers, byte[] Body, bool Breakable = false);

    async Task ServeAsync(TcpClient client, bool cdn)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (method, target, headers) = await ReadRequestAsync(stream);
                headers.TryGetValue("range", out var range);
                headers.TryGetValue("authorization", out var authorization);
                var path = target.Split('?')[0];
                Requests.Enqueue(new FakeRequest(cdn, method, path, range, authorization));
                var response = cdn ? Cdn(path, range) : Hub(method, path, authorization, range);
                await WriteAsync(stream, method, response);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away: nothing to answer.
            }
        }
    }

    static async Task<(string Method, string Target, Dictionary<string, string> Headers)> ReadRequestAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 65536 && !(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("client closed");
            bytes.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString(bytes.ToArray()).Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = lines.Skip(1).Where(l => l.Contains(':'))
            .ToDictionary(l => l[..l.IndexOf(':')].Trim().ToLowerInvariant(), l => l[(l.IndexOf(':') + 1)..].Trim());
        return (first[0], first[1], headers);
    }

    Response Hub(string method, string path, string? authorization, string? range)
    {
        var parts = path.Split('/').Select(Uri.UnescapeDataString).ToArray();
        // /api/models/{org}/{name}/revision/{rev}
        if (parts.Length == 7 && parts[1] == "api" && parts[2] == "models" && parts[5] == "revision")
        {
            if (!_repos.TryGetValue($"{parts[3]}/{parts[4]}", out var repo)) return RepoNotFound(authorization);
            if (Commit(repo, parts[6]) is not { } commit) return Error(404, "RevisionNotFound", $"Invalid rev id: {parts[6]}");
            var info = new
            {
                _id = "66f0c0ffee",
                id = repo.Id,
                modelId = repo.Id,
                sha = commit,
                @private = false,
                gated = repo.Token is null ? (object)false : "manual",
                disabled = false,
                library_name = "transformers",
                siblings = repo.Files.Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f }),
            };
            return new Response(200, new() { ["Content-Type"] = "application/json; charset=utf-8" }, JsonSerializer.SerializeToUtf8Bytes(info));
        }
        // /{org}/{name}/resolve/{rev}/{file...}
        if (parts.Length >= 6 && parts[3] == "resolve")
        {
            if (!_repos.TryGetValue($"{parts[1]}/{parts[2]}", out var repo)) return RepoNotFound(authorization);
            if (repo.Token is { } token && authorization != $"Bearer {token}")
                return authorization is null
                    ? Error(401, "GatedRepo", $"Access to model {repo.Id} is restricted. You must have access to it and be authenticated to access it. Please log in.")
                    : Error(403, "GatedRepo", $"Access to model {repo.Id} is restricted and you are not in the authorized list. Visit {Endpoint}/{repo.Id} to ask for access.");
            if (Commit(repo, parts[4]) is not { } commit) return Error(404, "RevisionNotFound", $"Invalid rev id: {parts[4]}");
            var name = string.Join('/', parts[5..]);
            if (!repo.Files.TryGetValue(name, out var file))
            {
                var missing = Error(404, "EntryNotFound", "Entry not found");
                missing.Headers["X-Repo-Commit"] = commit;
                return missing;
            }
            if (file.Lfs)
            {
                var location = $"{CdnAddress}/repos/{file.Sha256[..2]}/{file.Sha256[2..4]}/{file.Sha256}?X-Amz-Signature=fake&X-Amz-Expires=3600";
                return new Response(302, new()
                {
                    ["Location"] = location,
                    ["X-Repo-Commit"] = commit,
                    ["X-Linked-Etag"] = $"\"{file.Sha256}\"",
                    ["X-Linked-Size"] = file.Content.Length.ToString(),
                    ["ETag"] = $"\"{file.PointerId}\"",
                    ["Content-Type"] = "text/plain; charset=utf-8",
                }, Encoding.ASCII.GetBytes($"Found. Redirecting to {location}"));
            }
            var small = Body(file.Content, range);
            small.Headers["ETag"] = $"\"{file.GitBlobId}\"";
            small.Headers["X-Repo-Commit"] = commit;
            return small;
        }
        return new Response(404, new(), Encoding.ASCII.GetBytes("Not Found"));
    }

    Response Cdn(string path, string? range)
    {
        var sha = path.Split('/')[^1];
        var file = _repos.Values.SelectMany(r => r.Files.Values).FirstOrDefault(f => f.Lfs && f.Sha256 == sha);
        if (file is null) return new Response(403, new(), Encoding.ASCII.GetBytes("<Error><Code>AccessDenied</Code></Error>"));
        var content = file.Content;
        if (Corrupt)
        {
            content = (byte[])content.Clone();
            content[content.Length / 2] ^= 0xFF;
        }
        var response = Body(content, range) with { Breakable = true };
        response.Headers["ETag"] = $"\"{file.Sha256}\"";
        return response;
    }

    static Response Body(byte[] content, string? range)
    {
        var headers = new Dictionary<string, string> { ["Accept-Ranges"] = "bytes", ["Content-Type"] = "application/octet-stream" };
        if (range is null || !range.StartsWith("bytes=")) return new Response(200, headers, content);
        var span = range["bytes=".Length..].Split('-');
        long from = long.Parse(span[0]), to = span[1].Length > 0 ? long.Parse(span[1]) : content.Length - 1;
        headers["Content-Range"] = $"bytes {from}-{to}/{content.Length}";
        return new Response(206, headers, content[(int)from..(int)(to + 1)]);
    }

    static string? Commit(FakeRepo repo, string revision) =>
        repo.Refs.TryGetValue(revision, out var commit) ? commit : revision == FakeRepo.Commit ? revision : null;

    static Response RepoNotFound(string? authorization) =>
        // Without a token the hub says 401 for repositories that do not exist, as it does for private ones.
        Error(authorization is null ? 401 : 404, "RepoNotFound", "Repository not found");

    static Response Error(int status, string code, string message) =>
        new(status, new() { ["X-Error-Code"] = code, ["X-Error-Message"] = message, ["Content-Type"] = "application/json" },
            JsonSerializer.SerializeToUtf8Bytes(new { error = message }));

    async Task WriteAsync(NetworkStream stream, string method, Response response)
    {
        var head = new StringBuilder($"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n");
        foreach (var (name, value) in response.Headers) head.Append($"{name}: {value}\r\n");
        head.Append($"Content-Length: {response.Body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (method == "HEAD") return;
        int cut = response.Breakable ? Interlocked.Exchange(ref _cutAfter, -1) : -1;
        int stall = response.Breakable && cut < 0 ? Interlocked.Exchange(ref _stallAfter, -1) : -1;
        int limit = cut >= 0 ? cut : stall >= 0 ? stall : response.Body.Length;
        await stream.WriteAsync(response.Body.AsMemory(0, Math.Min(limit, response.Body.Length)));
        await stream.FlushAsync();
        if (stall >= 0)
        {
            // Send nothing more until the client closes the connection (or the hub shuts down).
            var sink = new byte[1];
            try { _ = await stream.ReadAsync(sink, _stop.Token); }
            catch (OperationCanceledException) { }
        }
    }

    static string Reason(int status) => status switch
    {
        200 => "OK", 206 => "Partial Content", 302 => "Found", 401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found", _ => "Status",
    };

    public void Dispose()
    {
        _stop.Cancel();
        _hub.Stop();
        _cdn.Stop();
        _stop.Dispose();
    }
}
