using System.Security.Cryptography;
using System.Text;

namespace NotebookLens.Loading;

/// <summary>
/// Checks a download against the etag that names its blob: the sha256 of the content for LFS files (64 hex
/// digits), the git blob id (sha1 of <c>"blob {size}\0"</c> and the content, 40 hex digits) for small files.
/// An etag of another shape leaves only the size to check.
/// </summary>
sealed class BlobChecksum(string etag, long size) : IDisposable
{
    IncrementalHash? _hash = Start(etag, size);

    public void Append(ReadOnlySpan<byte> data) => _hash?.AppendData(data);

    /// <summary>Forgets what was appended, for a file that starts over.</summary>
    public void Reset()
    {
        _hash?.Dispose();
        _hash = Start(etag, size);
    }

    /// <summary>The hash of what was appended when it differs from the etag, else null.</summary>
    public string? Mismatch()
    {
        if (_hash is null) return null;
        var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        return string.Equals(actual, etag, StringComparison.OrdinalIgnoreCase) ? null : actual;
    }

    static IncrementalHash? Start(string etag, long size)
    {
        if (etag.Length == 64 && etag.All(char.IsAsciiHexDigit)) return IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (etag.Length != 40 || !etag.All(char.IsAsciiHexDigit)) return null;
        var git = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        git.AppendData(Encoding.ASCII.GetBytes($"blob {size}\0"));
        return git;
    }

    public void Dispose() => _hash?.Dispose();
}
