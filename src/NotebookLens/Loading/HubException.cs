namespace NotebookLens.Loading;

/// <summary>Why a model could not be had from the Hugging Face hub or its cache.</summary>
public enum HubErrorKind
{
    /// <summary>A gated model whose licence the token's user has not accepted, or no token was sent (401/403).</summary>
    Gated,
    /// <summary>The hub rejected the token itself.</summary>
    InvalidToken,
    /// <summary>No such repository, or a private one the token cannot see.</summary>
    RepoNotFound,
    /// <summary>The repository has no such branch, tag or commit.</summary>
    RevisionNotFound,
    /// <summary>The repository has no weights NotebookLens can read (safetensors).</summary>
    NoSafetensors,
    /// <summary>Offline mode is on and the cache does not have what is needed.</summary>
    NotCached,
    /// <summary>The hub could not be reached, or a download kept failing.</summary>
    Network,
    /// <summary>The hub answered something unexpected.</summary>
    UnexpectedResponse,
    /// <summary>Downloaded bytes do not match the size or hash the hub reported.</summary>
    Corrupted,
    /// <summary>The cache's disk is full.</summary>
    DiskFull,
    /// <summary>The repository names a file that would land outside its cache folder.</summary>
    UnsafeFileName,
}

/// <summary>A problem getting a model from the hub, with a message that says what to do about it.</summary>
public sealed class HubException(HubErrorKind kind, string message, Exception? inner = null) : IOException(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
}
