using System.Text.RegularExpressions;

namespace NotebookLens.Loading;

/// <summary>A Hugging Face model repository and a revision: <c>org/name</c> or <c>org/name@revision</c>.</summary>
public sealed partial record HubId
{
    public const string DefaultRevision = "main";

    HubId(string repoId, string revision)
    {
        RepoId = repoId;
        Revision = revision;
    }

    /// <summary><c>org/name</c>, as in the model page's address.</summary>
    public string RepoId { get; }

    /// <summary>A branch, a tag or a commit hash; <c>main</c> when none was given.</summary>
    public string Revision { get; }

    /// <summary>Whether the revision is a full commit hash, which names a snapshot without any ref.</summary>
    public bool IsCommit => CommitHash().IsMatch(Revision);

    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";

    /// <summary>
    /// Whether <paramref name="text"/> has the shape of a hub id (one slash, no path syntax), valid or not.
    /// Text of any other shape is a folder path.
    /// </summary>
    public static bool LooksLikeHubId(string text)
    {
        var repo = text.Split('@', 2)[0];
        return repo.Count(c => c == '/') == 1 && !repo.Contains('\\') && repo[0] is not ('/' or '.' or '~') && !repo.EndsWith('/');
    }

    /// <summary>Parses <c>org/name[@revision]</c> with huggingface_hub's rules for repo ids.</summary>
    /// <exception cref="ArgumentException">The text is not a valid id; the message says why.</exception>
    public static HubId Parse(string text)
    {
        var at = text.IndexOf('@');
        var repo = at < 0 ? text : text[..at];
        var revision = at < 0 ? DefaultRevision : text[(at + 1)..];
        if (RepoIdShape().Match(repo) is not { Success: true } m)
            throw new ArgumentException(
                $"'{text}' is not a valid Hugging Face model id: it has the form org/name[@revision], where org and name use letters, digits, '-', '_' and '.', " +
                "start and end with a letter, digit or '_', and the name has at most 96 characters.");
        if (repo.Contains("--") || repo.Contains(".."))
            throw new ArgumentException($"'{text}' is not a valid Hugging Face model id: '--' and '..' are not allowed in it.");
        if (m.Groups["name"].Value.EndsWith(".git", StringComparison.Ordinal))
            throw new ArgumentException($"'{text}' is not a valid Hugging Face model id: a name cannot end with '.git'.");
        // The revision becomes a path under refs/ in the cache, so it must not climb out of it.
        if (!RevisionShape().IsMatch(revision) || revision.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException(
                $"'{text}': '{revision}' is not a revision. Give a branch, a tag or a commit hash after '@' (letters, digits, '-', '_', '.', '+', and '/' between parts).");
        return new HubId(repo, revision);
    }

    /// <summary>Whether <paramref name="text"/> is a full 40-digit commit hash, as the hub writes them.</summary>
    public static bool IsCommitHash(string text) => CommitHash().IsMatch(text);

    [GeneratedRegex(@"^(?<org>[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)/(?<name>[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,94}[A-Za-z0-9_])?)$")]
    private static partial Regex RepoIdShape();

    [GeneratedRegex(@"^[A-Za-z0-9_.+\-/]{1,255}$")]
    private static partial Regex RevisionShape();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
