namespace NotebookLens.Loading;

/// <summary>A repository's snapshot in the Hugging Face cache: the folder to load from and the commit it holds.</summary>
public sealed record HubSnapshot(HubId Id, string Commit, string Folder);

/// <summary>
/// Gets a model's files from the Hugging Face cache, downloading what is missing the way huggingface_hub's
/// <c>snapshot_download</c> does: into <c>blobs/{etag}.incomplete</c>, resumed with a <c>Range</c> request after an
/// interruption, checked against the size and hash the hub reports, then linked into <c>snapshots/{commit}/</c>.
/// A snapshot the cache already has is used without any request (unless <see cref="HubOptions.Refresh"/>).
/// </summary>
public sealed class HubDownloader : IDisposable
{
    /// <summary>Failed attempts in a row, without a byte of progress, before a file's download is given up.</summary>
    const int MaxAttempts = 5;

    readonly HubOptions _options;
    readonly HubCache _cache;
    readonly HubClient _client;

    public HubDownloader(HubOptions options)
    {
        _options = options;
        _cache = new HubCache(options.CacheDir);
        _client = new HubClient(options);
    }

    /// <summary>The snapshot folder of <paramref name="id"/> with the files <paramref name="parts"/> need, from the cache or the hub.</summary>
    /// <exception cref="HubException">The message says what went wrong and what to do.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; a file being downloaded is kept and resumes next time.</exception>
    public async Task<HubSnapshot> GetSnapshotAsync(HubId id, ModelParts parts = ModelParts.All, IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default)
    {
        var cached = _cache.CachedCommit(id);
        if (cached is not null && !_options.Refresh && ModelFiles.Lacking(Folder(id, cached), parts, f => _cache.IsKnownMissing(id, cached, f)).Count == 0)
            return new HubSnapshot(id, cached, Folder(id, cached));
        if (_options.Offline)
            return Usable(id, cached, parts) ?? throw new HubException(HubErrorKind.NotCached,
                $"{NotInCache(id, cached, parts)}, and offline mode is on (HF_HUB_OFFLINE). Download it once with the network on (unset HF_HUB_OFFLINE; `NotebookLens.Cli download --model {id}` does just that), or point HF_HUB_CACHE / HF_HOME to a cache that has it.");
        try
        {
            return await DownloadAsync(id, parts, progress, cancel).ConfigureAwait(false);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Network)
        {
            // As huggingface_hub does: without the hub, what the cache has is better than nothing.
            return Usable(id, cached, parts) ?? throw new HubException(HubErrorKind.Network, $"{e.Message} {NotInCache(id, cached, parts)}.", e);
        }
    }

    /// <inheritdoc cref="GetSnapshotAsync"/>
    public HubSnapshot GetSnapshot(HubId id, ModelParts parts = ModelParts.All, IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default) =>
        GetSnapshotAsync(id, parts, progress, cancel).GetAwaiter().GetResult();

    string Folder(HubId id, string commit) => _cache.SnapshotFolder(id, commit);

    /// <summary>The cached snapshot when it has at least what the parts cannot do without.</summary>
    HubSnapshot? Usable(HubId id, string? commit, ModelParts parts) =>
        commit is not null && Directory.Exists(Folder(id, commit)) && ModelFiles.LackingRequired(Folder(id, commit), parts).Count == 0
            ? new HubSnapshot(id, commit, Folder(id, commit))
            : null;

    string NotInCache(HubId id, string? commit, ModelParts parts) =>
        commit is not null && Directory.Exists(Folder(id, commit))
            ? $"The cached snapshot of {id} ({Folder(id, commit)}) lacks {string.Join(", ", ModelFiles.LackingRequired(Folder(id, commit), parts))}"
            : $"{id} is not in the Hugging Face cache ({_cache.Root})";

    async Task<HubSnapshot> DownloadAsync(HubId id, ModelParts parts, IProgress<DownloadProgress>? progress, CancellationToken cancel)
    {
        var repo = await _client.GetRepoInfoAsync(id, cancel).ConfigureAwait(false);
        var commit = repo.Commit;
        var repoFiles = repo.Files.ToHashSet(StringComparer.Ordinal);
        var wanted = new List<string>();
        foreach (var file in ModelFiles.SmallFiles(parts))
        {
            if (repoFiles.Contains(file)) wanted.Add(file);
            else _cache.MarkMissing(id, commit, file);
        }
        if (parts.HasFlag(ModelParts.Weights))
        {
            if (repoFiles.Contains(ModelFiles.Index))
            {
                // The index names the shards, so it comes first.
                await FetchAsync(id, commit, [ModelFiles.Index], progress: null, cancel).ConfigureAwait(false);
                var shards = ModelFiles.Shards(_cache.PointerPath(id, commit, ModelFiles.Index));
                foreach (var shard in shards) _cache.PointerPath(id, commit, shard);
                var absent = shards.Where(s => !repoFiles.Contains(s)).ToList();
                if (absent.Count > 0)
                    throw new HubException(HubErrorKind.UnexpectedResponse,
                        $"{id}: {ModelFiles.Index} at commit {commit} names shards the repository does not have ({string.Join(", ", absent)}). The repository is broken at this revision; try another one with @revision.");
                wanted.AddRange(shards);
            }
            else wanted.AddRange(ModelFiles.UnindexedWeights(id, repoFiles));
        }
        await FetchAsync(id, commit, wanted, progress, cancel).ConfigureAwait(false);
        _cache.WriteRef(id, commit);
        return new HubSnapshot(id, commit, Folder(id, commit));
    }

    /// <summary>Puts the files into the snapshot: blobs the cache has are linked, the others downloaded first.</summary>
    async Task FetchAsync(HubId id, string commit, IReadOnlyList<string> files, IProgress<DownloadProgress>? progress, CancellationToken cancel)
    {
        // Every name is checked before anything is written.
        var pointers = files.ToDictionary(f => f, f => _cache.PointerPath(id, commit, f));
        var infos = new List<HubFileInfo>();
        foreach (var file in files.Where(f => !File.Exists(pointers[f])))
            infos.Add(await _client.GetFileInfoAsync(id, commit, file, cancel).ConfigureAwait(false));
        var cached = infos.Where(i => File.Exists(_cache.BlobPath(id, i.Etag))).ToList();
        foreach (var info in cached) Link(id, info, pointers);
        var downloads = infos.Except(cached).DistinctBy(i => i.Etag).ToList();
        if (downloads.Count > 0)
        {
            var blobs = Path.GetDirectoryName(_cache.BlobPath(id, downloads[0].Etag))!;
            DiskSpace.Require(blobs, downloads.Sum(i => i.Size - PartialLength(id, i)), $"{id} ({downloads.Count} file{(downloads.Count == 1 ? "" : "s")})");
            var meter = new ProgressMeter(id.RepoId, downloads.Count, downloads.Sum(i => i.Size), progress);
            foreach (var info in downloads)
            {
                meter.StartFile(info.File);
                await FetchBlobAsync(id, info, meter, cancel).ConfigureAwait(false);
                foreach (var same in infos.Where(i => i.Etag == info.Etag)) Link(id, same, pointers);
            }
            meter.Finish();
        }
    }

    void Link(HubId id, HubFileInfo info, Dictionary<string, string> pointers) => HubCache.Link(_cache.BlobPath(id, info.Etag), pointers[info.File]);

    long PartialLength(HubId id, HubFileInfo info)
    {
        var partial = new FileInfo(_cache.BlobPath(id, info.Etag) + ".incomplete");
        return partial.Exists ? Math.Min(partial.Length, info.Size) : 0;
    }

    async Task FetchBlobAsync(HubId id, HubFileInfo info, ProgressMeter meter, CancellationToken cancel)
    {
        var blob = _cache.BlobPath(id, info.Etag);
        await using var held = await FileLock.AcquireAsync(_cache.LockPath(id, info.Etag), cancel).ConfigureAwait(false);
        if (File.Exists(blob))
        {
            // Another process downloaded it while we waited for the lock.
            meter.Adjust(info.Size);
            return;
        }
        var incomplete = blob + ".incomplete";
        using var checksum = new BlobChecksum(info.Etag, info.Size);
        await using (var file = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true))
        {
            if (file.Length > info.Size) file.SetLength(0);
            await HashExistingAsync(file, checksum, cancel).ConfigureAwait(false);
            meter.Adjust(file.Length);
            int failures = 0;
            while (file.Length < info.Size)
            {
                long before = file.Length;
                try
                {
                    await TransferAsync(id, info, file, checksum, meter, cancel).ConfigureAwait(false);
                }
                catch (Exception e) when (IsTransient(e) && !cancel.IsCancellationRequested)
                {
                    if (file.Length > before) failures = 0;
                    if (++failures >= MaxAttempts)
                        throw new HubException(HubErrorKind.Network,
                            $"Downloading {info.File} of {id} failed {MaxAttempts} times in a row ({e.Message}). The {Bytes.Format(file.Length)} of {Bytes.Format(info.Size)} received are kept in {incomplete}: run the same command again to resume.", e);
                    // A dropped connection is retried at once, then with growing pauses.
                    await Task.Delay(TimeSpan.FromSeconds(failures - 1), cancel).ConfigureAwait(false);
                }
            }
        }
        if (checksum.Mismatch() is { } actual)
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.Corrupted,
                $"The download of {info.File} of {id} is corrupted: its {(info.Etag.Length == 64 ? "sha256" : "git hash")} is {actual} but the hub says {info.Etag}. It was discarded; run again to download it afresh. If this repeats, something between you and the hub (a proxy, a failing disk) alters the data.");
        }
        File.Move(incomplete, blob, overwrite: true);
    }

    static async Task HashExistingAsync(FileStream file, BlobChecksum checksum, CancellationToken cancel)
    {
        var buffer = new byte[1 << 20];
        file.Position = 0;
        int n;
        while ((n = await file.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0) checksum.Append(buffer.AsSpan(0, n));
    }

    /// <summary>One GET from the end of <paramref name="file"/> on; throws when the body stops before the file is whole.</summary>
    async Task TransferAsync(HubId id, HubFileInfo info, FileStream file, BlobChecksum checksum, ProgressMeter meter, CancellationToken cancel)
    {
        var (response, start) = await _client.OpenAsync(id, info, file.Length, cancel).ConfigureAwait(false);
        using (response)
        {
            if (start < file.Length)
            {
                // The server ignored the Range header and sends the whole file: start over.
                meter.Adjust(-file.Length);
                file.SetLength(0);
                checksum.Reset();
            }
            file.Position = file.Length;
            await using var body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
            var buffer = new byte[1 << 16];
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            while (file.Length < info.Size)
            {
                stall.CancelAfter(_options.Timeout);
                int n;
                try { n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {_options.Timeout.TotalSeconds:0} s");
                }
                if (n == 0) throw new IOException($"the connection closed after {file.Length} of {info.Size} bytes");
                if (file.Length + n > info.Size)
                    throw new HubException(HubErrorKind.Corrupted,
                        $"The hub sent more than the {info.Size} bytes it announced for {info.File} of {id}; the download was stopped. Run again; if this repeats, something between you and the hub alters the data.");
                try { await file.WriteAsync(buffer.AsMemory(0, n), cancel).ConfigureAwait(false); }
                catch (IOException e) when (DiskSpace.IsFull(e))
                {
                    throw DiskSpace.Full(Path.GetDirectoryName(file.Name)!, $"{info.File} of {id} needs {Bytes.Format(info.Size - file.Length)} more", e);
                }
                checksum.Append(buffer.AsSpan(0, n));
                meter.Transferred(n);
            }
        }
    }

    /// <summary>A dropped or stalled connection, or a hub briefly out of reach: worth another attempt.</summary>
    static bool IsTransient(Exception e) =>
        e is HttpRequestException or TimeoutException or HubException { Kind: HubErrorKind.Network } || (e is IOException and not HubException);

    public void Dispose() => _client.Dispose();
}
