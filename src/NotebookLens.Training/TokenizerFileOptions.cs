namespace NotebookLens.Training;

/// <summary>The <c>tokenizer_config.json</c> side of a saved tokenizer: which special tokens play which role, and the chat template.</summary>
public sealed record TokenizerFileOptions
{
    /// <summary>Added in front of every encoding by the post-processor, as Llama 3.1 does; must be one of the special tokens.</summary>
    public required string BosToken { get; init; }

    /// <summary>Must be one of the special tokens.</summary>
    public required string EosToken { get; init; }

    /// <summary>Pads batched inputs (Gemma's <c>&lt;pad&gt;</c>); must be one of the special tokens; null: none (Llama 3).</summary>
    public string? PadToken { get; init; }

    /// <summary>The Jinja chat template, or null for a base model.</summary>
    public string? ChatTemplate { get; init; }

    public long ModelMaxLength { get; init; } = 131_072;
}
