using System.Net;
using System.Net.Sockets;
using System.Text;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Loading;

/// <summary>Downloads from the fake hub on 127.0.0.1 into a fresh cache folder per test.</summary>
public class HubDownloadTests
{
    const int TestTimeout = 120_000;
    const string TinyId = "test-org/tiny-llama";
    static readonly HubId Tiny = HubId.Parse(TinyId);
    static readonly string[] TinySnapshot = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

    public HubDownloadTests() => TorchRuntime.EnsureLoaded();

    /// <summary>The llama3-tiny fixture as the hub would hold it, with files NotebookLens must leave alone.</summary>
    static FakeRepo TinyRepo(string id = TinyId) => FakeRepo.FromFolder(id, Fixtures.Llama, new Dictionary<string, byte[]>
    {
        [".gitattributes"] = Encoding.ASCII.GetBytes("*.safetensors filter=lfs diff=lfs merge=lfs -text\ntokenizer.json filter=lfs diff=lfs merge=lfs -text\n"),
        ["README.md"] = Encoding.UTF8.GetBytes("# tiny llama\n"),
        ["pytorch_model.bin"] = new byte[4096],
    });

    static CancellationToken Bounded() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    static string RepoFolder(HubOptions options) => Path.Combine(options.CacheDir, "models--test-org--tiny-llama");

    sealed class Reports : IProgress<DownloadProgress>
    {
        readonly List<DownloadProgress> _all = [];
        public IReadOnlyList<DownloadProgress> All { get { lock (_all) return _all.ToList(); } }
        public void Report(DownloadProgress value) { lock (_all) _all.Add(value); }
    }

    static async Task<HubSnapshot> Download(HubOptions options, string id = TinyId, ModelParts parts = ModelParts.All, IProgress<DownloadProgress>? progress = null, CancellationToken? cancel = null)
    {
        using var downloader = new HubDownloader(options);
        return await downloader.GetSnapshotAsync(HubId.Parse(id), parts, progress, cancel ?? Bounded());
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_fresh_download_lays_out_the_cache_as_huggingface_hub_does()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo);
        var options = hub.Options(token: "hf_reader");
        var snapshot = await Download(options);

        var folder = RepoFolder(options);
        Assert.Equal(Path.Combine(folder, "snapshots", FakeRepo.Commit), snapshot.Folder);
        Assert.Equal(FakeRepo.Commit, snapshot.Commit);
        Assert.Equal([".no_exist", "blobs", "refs", "snapshots"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(FakeRepo.Commit, File.ReadAllText(Path.Combine(folder, "refs", "main")));
        Assert.Equal(TinySnapshot, Directory.GetFileSystemEntries(snapshot.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in TinySnapshot)
        {
            var file = repo.Files[name];
            var pointer = Path.Combine(snapshot.Folder, name);
            // Blobs are named by sha256 for LFS files and by the git blob id for small ones; links are relative.
            Assert.Equal($"../../blobs/{file.Etag}", new FileInfo(pointer).LinkTarget);
            Assert.Equal(file.Content, File.ReadAllBytes(pointer));
        }
        Assert.Equal(TinySnapshot.Select(n => repo.Files[n].Etag).Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(Path.Combine(folder, "blobs")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // The repository has no special_tokens_map.json: recorded as transformers records it, so it is not asked for again.
        Assert.True(File.Exists(Path.Combine(folder, ".no_exist", FakeRepo.Commit, "special_tokens_map.json")));
        Assert.True(File.Exists(Path.Combine(options.CacheDir, ".locks", "models--test-org--tiny-llama", repo.Files["model.safetensors"].Sha256 + ".lock")));

        var requests = hub.Requests.ToList();
        Assert.DoesNotContain(requests, r => r.Path.Contains("golden") || r.Path.EndsWith(".bin") || r.Path.EndsWith("README.md"));
        Assert.Contains(requests, r => !r.Cdn && r.Authorization == "Bearer hf_reader");
        Assert.All(requests.Where(r => r.Cdn), r => Assert.Null(r.Authorization));

        using var model = LanguageModel.Load(snapshot.Folder);
        Assert.Equal(8_282_432, model.NumParameters);
        Assert.Equal([128000, 9906], HfTokenizer.Load(snapshot.Folder).Encode("Hello"));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_cached_model_is_found_without_any_request()
    {
        using var hub = new FakeHub(TinyRepo());
        var options = hub.Options();
        var first = await Download(options);
        hub.Requests.Clear();

        var again = await Download(options);
        var located = await ModelLocator.ResolveAsync(TinyId, ModelParts.All, options, cancel: Bounded());
        using var model = LanguageModel.Load(TinyId, new LoadOptions { Hub = options });

        Assert.Equal(first, again);
        Assert.Equal(first.Folder, located);
        Assert.Empty(hub.Requests);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_cache_laid_out_by_python_is_found_offline_and_online_without_a_request()
    {
        // What huggingface_hub leaves after AutoModelForCausalLM/AutoTokenizer.from_pretrained, made by hand.
        var cache = Path.Combine(Fixtures.TempDir(), "hub");
        var folder = Path.Combine(cache, "models--test-org--tiny-llama");
        var repo = TinyRepo();
        var snapshot = Path.Combine(folder, "snapshots", FakeRepo.Commit);
        Directory.CreateDirectory(Path.Combine(folder, "blobs"));
        Directory.CreateDirectory(snapshot);
        foreach (var name in TinySnapshot)
        {
            File.WriteAllBytes(Path.Combine(folder, "blobs", repo.Files[name].Etag), repo.Files[name].Content);
            File.CreateSymbolicLink(Path.Combine(snapshot, name), $"../../blobs/{repo.Files[name].Etag}");
        }
        Directory.CreateDirectory(Path.Combine(folder, "refs"));
        File.WriteAllText(Path.Combine(folder, "refs", "main"), FakeRepo.Commit);
        Directory.CreateDirectory(Path.Combine(folder, ".no_exist", FakeRepo.Commit));
        File.WriteAllBytes(Path.Combine(folder, ".no_exist", FakeRepo.Commit, "special_tokens_map.json"), []);

        using var hub = new FakeHub();
        var online = await Download(hub.Options(cache));
        var offline = await Download(hub.Options(cache) with { Offline = true });

        Assert.Equal(snapshot, online.Folder);
        Assert.Equal(snapshot, offline.Folder);
        Assert.Empty(hub.Requests);
        using var model = LanguageModel.Load(TinyId, new LoadOptions { Hub = hub.Options(cache) with { Offline = true } });
        Assert.Equal(2, model.Config.NumLayers);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_dropped_connection_is_resumed_with_a_range_request()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo);
        hub.CutNextAfter = 3_000_000;
        var snapshot = await Download(hub.Options());

        var cdn = hub.Requests.Where(r => r.Cdn).ToList();
        Assert.Null(cdn[0].Range);
        Assert.Equal(cdn[0].Path, cdn[1].Path);
        Assert.Equal("bytes=3000000-", cdn[1].Range);
        foreach (var name in TinySnapshot) Assert.Equal(repo.Files[name].Content, File.ReadAllBytes(Path.Combine(snapshot.Folder, name)));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_stalled_connection_is_given_up_after_the_timeout_and_resumed()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo);
        hub.StallNextAfter = 1_000_000;
        var snapshot = await Download(hub.Options() with { Timeout = TimeSpan.FromSeconds(1) });

        Assert.Contains(hub.Requests, r => r.Cdn && r.Range == "bytes=1000000-");
        Assert.Equal(repo.Files["model.safetensors"].Content, File.ReadAllBytes(Path.Combine(snapshot.Folder, "model.safetensors")));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_cancelled_download_keeps_its_bytes_and_the_next_run_resumes()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo);
        var options = hub.Options();
        hub.StallNextAfter = 2_000_000;
        using var cancel = new CancellationTokenSource();
        var running = Download(options, cancel: cancel.Token);
        var blobs = Path.Combine(RepoFolder(options), "blobs");
        string? partial = null;
        for (int i = 0; i < 200 && partial is null; i++)
        {
            await Task.Delay(50);
            // A smaller file's .incomplete may be renamed between the listing and the look at its length: FileInfo reads
            // both at once (Exists fills the cache Length reads), so a vanished file is skipped instead of throwing.
            partial = Directory.Exists(blobs) ? Directory.GetFiles(blobs, "*.incomplete").FirstOrDefault(f => new FileInfo(f) is { Exists: true, Length: 2_000_000 }) : null;
        }
        Assert.NotNull(partial);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(2_000_000, new FileInfo(partial).Length);

        var reports = new Reports();
        var snapshot = await Download(options, progress: reports);
        Assert.Contains(hub.Requests, r => r.Cdn && r.Range == "bytes=2000000-");
        Assert.False(File.Exists(partial));
        foreach (var name in TinySnapshot) Assert.Equal(repo.Files[name].Content, File.ReadAllBytes(Path.Combine(snapshot.Folder, name)));
        var last = reports.All[^1];
        Assert.True(last.Done);
        Assert.Equal(last.BytesTotal, last.BytesDone);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_corrupted_download_is_rejected_and_leaves_nothing_behind()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo) { Corrupt = true };
        var options = hub.Options();

        var e = await Assert.ThrowsAsync<HubException>(() => Download(options));
        Assert.Equal(HubErrorKind.Corrupted, e.Kind);
        Assert.Contains("corrupted", e.Message);
        Assert.Contains(repo.Files["tokenizer.json"].Sha256, e.Message);
        var folder = RepoFolder(options);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(folder, "blobs")), f => f.EndsWith(".incomplete") || f.EndsWith(repo.Files["tokenizer.json"].Sha256));
        Assert.False(File.Exists(Path.Combine(folder, "snapshots", FakeRepo.Commit, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(folder, "refs", "main")));

        hub.Corrupt = false;
        var snapshot = await Download(options);
        Assert.Equal(repo.Files["tokenizer.json"].Content, File.ReadAllBytes(Path.Combine(snapshot.Folder, "tokenizer.json")));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_gated_model_says_where_to_accept_the_licence_and_how_to_pass_a_token()
    {
        const string granted = "hf_granted_token_123";
        using var hub = new FakeHub(new FakeRepo("test-org/gated-llama", TinyRepo().Files) { Token = granted });
        var options = hub.Options();

        var anonymous = await Assert.ThrowsAsync<HubException>(() => Download(options, "test-org/gated-llama"));
        Assert.Equal(HubErrorKind.Gated, anonymous.Kind);
        Assert.Contains($"{hub.Endpoint}/test-org/gated-llama", anonymous.Message);
        Assert.Contains("HF_TOKEN", anonymous.Message);
        Assert.Contains("hf auth login", anonymous.Message);

        var refused = await Assert.ThrowsAsync<HubException>(() => Download(options with { Token = "hf_other_user" }, "test-org/gated-llama"));
        Assert.Equal(HubErrorKind.Gated, refused.Kind);
        Assert.Contains("no access", refused.Message);
        Assert.Contains($"{hub.Endpoint}/test-org/gated-llama", refused.Message);
        Assert.DoesNotContain("hf_other_user", refused.Message);
        Assert.DoesNotContain(hub.Requests, r => r.Cdn);

        var snapshot = await Download(options with { Token = granted }, "test-org/gated-llama");
        Assert.True(File.Exists(Path.Combine(snapshot.Folder, "model.safetensors")));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Unknown_repositories_and_revisions_are_named()
    {
        using var hub = new FakeHub(TinyRepo());
        var missing = await Assert.ThrowsAsync<HubException>(() => Download(hub.Options(), "test-org/no-such-model"));
        Assert.Equal(HubErrorKind.RepoNotFound, missing.Kind);
        Assert.Contains("test-org/no-such-model", missing.Message);

        var revision = await Assert.ThrowsAsync<HubException>(() => Download(hub.Options(), $"{TinyId}@v9.9"));
        Assert.Equal(HubErrorKind.RevisionNotFound, revision.Kind);
        Assert.Contains("'v9.9'", revision.Message);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Offline_mode_never_touches_the_network()
    {
        using var hub = new FakeHub(TinyRepo());
        var options = hub.Options();
        var e = await Assert.ThrowsAsync<HubException>(() => Download(options with { Offline = true }));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Contains(options.CacheDir, e.Message);
        Assert.Empty(hub.Requests);

        // Only the tokenizer is cached: offline, the weights are reported missing by name.
        await Download(options, parts: ModelParts.Tokenizer);
        hub.Requests.Clear();
        var weights = await Assert.ThrowsAsync<HubException>(() => Download(options with { Offline = true }));
        Assert.Contains("model.safetensors", weights.Message);
        var tokenizer = await Download(options with { Offline = true }, parts: ModelParts.Tokenizer);
        Assert.True(File.Exists(Path.Combine(tokenizer.Folder, "tokenizer.json")));
        Assert.Empty(hub.Requests);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Without_a_network_an_uncached_model_fails_clearly()
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var options = new HubOptions { CacheDir = Path.Combine(Fixtures.TempDir(), "hub"), Endpoint = $"http://127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(5) };

        var e = await Assert.ThrowsAsync<HubException>(() => Download(options));
        Assert.Equal(HubErrorKind.Network, e.Kind);
        Assert.Contains($"Cannot reach the Hugging Face hub at http://127.0.0.1:{port}", e.Message);
        Assert.Contains("not in the Hugging Face cache", e.Message);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_file_name_that_would_escape_the_cache_is_refused()
    {
        const string evil = "../../../escape.safetensors";
        var files = new Dictionary<string, FakeFile>
        {
            ["config.json"] = TinyRepo().Files["config.json"],
            ["model.safetensors.index.json"] = new(Encoding.UTF8.GetBytes($$$"""{"metadata": {}, "weight_map": {"model.embed_tokens.weight": "{{{evil}}}"}}"""), lfs: false),
            [evil] = new(new byte[1024], lfs: true),
        };
        using var hub = new FakeHub(new FakeRepo("test-org/evil", files));
        var options = hub.Options();

        var e = await Assert.ThrowsAsync<HubException>(() => Download(options, "test-org/evil"));
        Assert.Equal(HubErrorKind.UnsafeFileName, e.Kind);
        Assert.Contains(evil, e.Message);
        Assert.DoesNotContain(hub.Requests, r => r.Path.Contains("escape"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(options.CacheDir)!, "escape.safetensors", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("../x.json")]
    [InlineData("a/../../x.json")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\x.json")]
    [InlineData("a//b.json")]
    [InlineData("./x.json")]
    [InlineData("")]
    public void Repository_paths_that_leave_the_snapshot_are_refused(string file)
    {
        var e = Assert.Throws<HubException>(() => HubCache.Within("/cache/snapshots/abc", file));
        Assert.Equal(HubErrorKind.UnsafeFileName, e.Kind);
    }

    [Fact]
    public void Repository_paths_with_folders_stay_in_the_snapshot() =>
        Assert.Equal("/cache/snapshots/abc/original/params.json", HubCache.Within("/cache/snapshots/abc", "original/params.json"));

    [Fact(Timeout = TestTimeout)]
    public async Task Sharded_weights_come_by_their_index_and_nothing_else()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        var sharded = builder.Write(shards: 3);
        var repo = FakeRepo.FromFolder("test-org/sharded", sharded, new Dictionary<string, byte[]>
        {
            ["consolidated.safetensors"] = new byte[2048],
            ["pytorch_model-00001-of-00002.bin"] = new byte[2048],
        });
        using var hub = new FakeHub(repo);

        var snapshot = await Download(hub.Options(), "test-org/sharded", ModelParts.Weights);

        Assert.Equal(["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"],
            Directory.GetFileSystemEntries(snapshot.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var checkpoint = Checkpoint.Open(snapshot.Folder);
        Assert.Equal(builder.Tensors.Count, checkpoint.Tensors.Count);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Pickle_only_repositories_are_refused_before_any_download()
    {
        var files = new Dictionary<string, FakeFile>
        {
            ["config.json"] = TinyRepo().Files["config.json"],
            ["pytorch_model.bin"] = new(new byte[4096], lfs: true),
        };
        using var hub = new FakeHub(new FakeRepo("test-org/pickles", files));
        var e = await Assert.ThrowsAsync<HubException>(() => Download(hub.Options(), "test-org/pickles"));
        Assert.Equal(HubErrorKind.NoSafetensors, e.Kind);
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.DoesNotContain(hub.Requests, r => r.Cdn);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task The_tokenizer_alone_downloads_no_weights_and_the_weights_join_it_later()
    {
        using var hub = new FakeHub(TinyRepo());
        var options = hub.Options();
        var folder = await ModelLocator.ResolveAsync(TinyId, ModelParts.Tokenizer, options, cancel: Bounded());
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.DoesNotContain(hub.Requests, r => r.Path.EndsWith("model.safetensors"));
        Assert.Equal([128000, 9906], HfTokenizer.Load(TinyId, options).Encode("Hello"));

        using var model = LanguageModel.Load(TinyId, new LoadOptions { Hub = options });
        Assert.Equal(folder, model.Checkpoint.Folder);
        hub.Requests.Clear();
        Assert.Equal(folder, await ModelLocator.ResolveAsync(TinyId, ModelParts.All, options, cancel: Bounded()));
        Assert.Empty(hub.Requests);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Progress_reports_every_byte_once_with_a_rate()
    {
        var repo = TinyRepo();
        using var hub = new FakeHub(repo);
        var reports = new Reports();
        await Download(hub.Options(), progress: reports);

        var all = reports.All;
        long total = TinySnapshot.Sum(n => (long)repo.Files[n].Content.Length);
        Assert.All(all, p => Assert.Equal((TinyId, TinySnapshot.Length, total), (p.RepoId, p.FileCount, p.BytesTotal)));
        Assert.Equal(Enumerable.Range(1, TinySnapshot.Length), all.Select(p => p.FileNumber).Distinct());
        Assert.True(all.Zip(all.Skip(1)).All(pair => pair.Second.BytesDone >= pair.First.BytesDone));
        Assert.Single(all, p => p.Done);
        Assert.True(all[^1].Done);
        Assert.Equal(total, all[^1].BytesDone);
        Assert.Equal(1.0, all[^1].Fraction);
        Assert.Equal(TimeSpan.Zero, all[^1].Remaining);
        Assert.True(all[^1].BytesPerSecond > 0);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_tag_gets_its_own_ref_and_a_commit_needs_none()
    {
        var repo = TinyRepo();
        repo.Refs["v1.0"] = FakeRepo.Commit;
        using var hub = new FakeHub(repo);
        var options = hub.Options();

        var tagged = await Download(options, $"{TinyId}@v1.0");
        Assert.Equal(FakeRepo.Commit, File.ReadAllText(Path.Combine(RepoFolder(options), "refs", "v1.0")));
        Assert.False(File.Exists(Path.Combine(RepoFolder(options), "refs", "main")));

        hub.Requests.Clear();
        var pinned = await Download(options with { Offline = true }, $"{TinyId}@{FakeRepo.Commit}");
        Assert.Equal(tagged.Folder, pinned.Folder);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void A_full_disk_is_recognised_and_explained()
    {
        var e = Assert.Throws<IOException>(() =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            full.Write(new byte[16]);
        });
        Assert.True(DiskSpace.IsFull(e));

        var folder = Fixtures.TempDir();
        var refused = Assert.Throws<HubException>(() => DiskSpace.Require(folder, long.MaxValue / 2, "test-org/huge (1 file)"));
        Assert.Equal(HubErrorKind.DiskFull, refused.Kind);
        Assert.Contains(folder, refused.Message);
        Assert.Contains("test-org/huge", refused.Message);
        Assert.Contains("HF_HUB_CACHE", refused.Message);
    }
}
