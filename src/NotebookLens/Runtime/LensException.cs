namespace NotebookLens.Runtime;

/// <summary>What kind of problem a <see cref="LensException"/> reports, so a front end can word it and react.</summary>
public enum LensErrorKind
{
    /// <summary>A model, file or folder that is not there.</summary>
    NotFound,
    /// <summary>An argument outside what the model allows (layer, head, position, neuron, count).</summary>
    OutOfRange,
    /// <summary>A word or text the model or prompt does not have.</summary>
    NotInInput,
    /// <summary>An analysis that found no answer under the given settings (e.g. no refusal direction survived).</summary>
    NoResult,
    /// <summary>Something the model's architecture does not support.</summary>
    Unsupported,
    /// <summary>Not enough memory for what was asked.</summary>
    Resources,
    /// <summary>A model whose weights were freed (unloaded from a registry, or disposed) and that was used afterwards.</summary>
    Unloaded,
}

/// <summary>
/// A problem with what the user asked, with what went wrong (<see cref="Exception.Message"/>) and what to do about it
/// (<see cref="Remedy"/>) in terms of the core's API. Front ends (CLI flags, <c>#!model</c> options) word the remedy
/// their own way from <see cref="Kind"/> and <see cref="Setting"/>; the core never names a front end's options.
/// </summary>
public class LensException(LensErrorKind kind, string message, string? remedy = null, string? setting = null, Exception? inner = null)
    : Exception(remedy is null ? message : $"{message} {remedy}", inner)
{
    public LensErrorKind Kind { get; } = kind;

    /// <summary>The problem alone, without the remedy.</summary>
    public string Problem { get; } = message;

    /// <summary>What to do, in the core API's terms; null when there is nothing to suggest.</summary>
    public string? Remedy { get; } = remedy;

    /// <summary>The setting (option, argument) the problem is about, e.g. "layer", "PruneLayerFraction"; null if none.</summary>
    public string? Setting { get; } = setting;
}

/// <summary>The range checks every analysis shares, with one wording.</summary>
public static class Ranges
{
    /// <summary>Throws unless 0 ≤ <paramref name="value"/> &lt; <paramref name="count"/>.</summary>
    /// <param name="what">"layer", "head", "neuron", "position" ...</param>
    public static int Check(int value, int count, string what, string owner = "this model")
    {
        if (value >= 0 && value < count) return value;
        throw new LensException(LensErrorKind.OutOfRange, Message(value, count, what, owner), setting: what);
    }

    /// <summary>The wording of <see cref="Check"/>, for the engine's argument checks: "Layer 7 is out of range; this model has layers 0 .. 5."</summary>
    public static string Message(int value, int count, string what, string owner = "this model") =>
        $"{char.ToUpperInvariant(what[0])}{what[1..]} {value} is out of range; {owner} has {what}s 0 .. {count - 1}.";

    /// <summary>A token index counted from the end when negative (-1 is the last), checked against <paramref name="count"/> tokens.</summary>
    public static int Position(int index, int count, string owner = "the prompt")
    {
        int position = index < 0 ? count + index : index;
        if (position >= 0 && position < count) return position;
        throw new LensException(LensErrorKind.OutOfRange,
            $"Token index {index} is outside {owner}'s {count} tokens (use 0 .. {count - 1}, or -1 .. -{count} from the end).",
            setting: "position");
    }
}
