namespace NotebookLens.Loading;

/// <summary>
/// The Hugging Face cache layout, exactly as huggingface_hub writes it, so Python and NotebookLens share one copy:
/// <code>
/// models--org--name/
///   blobs/{etag}                      file contents, named by sha256 (LFS files) or git blob sha1 (small files)
///   snapshots/{commit}/{path}         relative symlinks to ../../blobs/{etag}
///   refs/{revision}                   the commit hash a branch or tag named when last seen
///   .no_exist/{commit}/{path}         empty files: the repository does not have this file at this commit
/// .locks/models--org--name/{etag}.lock
/// </code>
/// </summary>
sealed class HubCache(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string RepoFolder(HubId id) => Path.Combine(Root, FolderName(id));

    public string SnapshotFolder(HubId id, string commit) => Path.Combine(RepoFolder(id), "snapshots", commit);

    public string BlobPath(HubId id, string etag) => Path.Combine(RepoFolder(id), "blobs", etag);

    public string LockPath(HubId id, string etag) => Path.Combine(Root, ".locks", FolderName(id), etag + ".lock");

    /// <summary>The commit the id's revision names in the cache: the revision itself when it is a commit hash, else its ref.</summary>
    public string? CachedCommit(HubId id)
    {
        if (id.IsCommit) return id.Revision;
        var refPath = Path.Combine(RepoFolder(id), "refs", id.Revision);
        return File.Exists(refPath) && File.ReadAllText(refPath).Trim() is var commit && HubId.IsCommitHash(commit) ? commit : null;
    }

    /// <summary>Records that the id's revision now names <paramref name="commit"/>; written whole (temporary file, then rename).</summary>
    public void WriteRef(HubId id, string commit)
    {
        if (id.IsCommit) return;
        var refPath = Path.Combine(RepoFolder(id), "refs", id.Revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        var temporary = $"{refPath}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, commit);
        File.Move(temporary, refPath, overwrite: true);
    }

    public bool IsKnownMissing(HubId id, string commit, string file) => File.Exists(Within(Path.Combine(RepoFolder(id), ".no_exist", commit), file));

    public void MarkMissing(HubId id, string commit, string file)
    {
        var path = Within(Path.Combine(RepoFolder(id), ".no_exist", commit), file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Create(path).Dispose();
    }

    /// <summary>The snapshot path of a repository file, refusing names that would land outside the snapshot folder.</summary>
    public string PointerPath(HubId id, string commit, string file) => Within(SnapshotFolder(id, commit), file);

    /// <summary>
    /// Makes the snapshot entry for a blob: a relative symlink, as huggingface_hub makes it, or a copy of the blob
    /// where the file system has no symlinks.
    /// </summary>
    public static void Link(string blob, string pointer)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        // A dangling link (its blob deleted) is replaced.
        if (new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer);
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Copy(blob, pointer, overwrite: true);
        }
    }

    static string FolderName(HubId id) => "models--" + id.RepoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="folder"/>/<paramref name="file"/> for a repository path with '/' separators, or an
    /// <see cref="HubException"/> when the name is absolute, climbs with '..', or otherwise leaves the folder.
    /// </summary>
    internal static string Within(string folder, string file)
    {
        var parts = file.Split('/');
        bool safe = file.Length > 0 && !file.Contains('\\') && !file.Contains('\0') && !Path.IsPathRooted(file)
                    && parts.All(p => p is not ("" or "." or ".."));
        var path = safe ? Path.GetFullPath(Path.Combine(folder, Path.Combine(parts))) : "";
        if (!path.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new HubException(HubErrorKind.UnsafeFileName,
                $"Refusing the repository file name '{file}': it would be written outside the model's cache folder {folder}. The repository (or its model.safetensors.index.json) is malformed or malicious; nothing was written for it.");
        return path;
    }
}
