namespace NotebookLens.Interactive;

/// <summary>A mistake in a <c>#!model</c> command: what is wrong and what to do instead, shown as the cell's error.</summary>
sealed class MagicException(string reason, string remedy) : Exception($"{reason} {remedy}")
{
    public string Reason { get; } = reason;
    public string Remedy { get; } = remedy;
}
