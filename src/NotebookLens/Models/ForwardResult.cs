using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>What one forward pass should keep besides the logits.</summary>
public sealed record ForwardOptions
{
    /// <summary>Keep every hidden state in Hugging Face's <c>output_hidden_states</c> convention.</summary>
    public bool HiddenStates { get; init; }
    /// <summary>Keep every layer's post-softmax attention probabilities.</summary>
    public bool Attentions { get; init; }
    /// <summary>Compute logits at the last position only (saves <c>T x vocab</c> work on long prompts).</summary>
    public bool LastPositionLogitsOnly { get; init; }
    /// <summary>Hooks to run on the activations (see <see cref="HookPoints"/>).</summary>
    public HookSet? Hooks { get; init; }
    /// <summary><c>[B, T]</c>: true for real tokens, false for (left) padding. Null: every token is real.</summary>
    public Tensor? PaddingMask { get; init; }
    /// <summary>Records the autograd graph (training); every other pass runs without it.</summary>
    internal bool RecordGradients { get; init; }

    public static ForwardOptions Default { get; } = new();

    public static ForwardOptions Everything { get; } = new() { HiddenStates = true, Attentions = true };
}

/// <summary>
/// The outputs of a forward pass. Its tensors belong to the caller's dispose scope (<see cref="Runtime.Ownership"/>);
/// disposing it frees them at once, <see cref="Keep"/> takes them out of the scope. Hidden states and attention maps
/// of a large pass are views of one block of memory per dtype, freed when the last of them is: clone one to keep it alone.
/// </summary>
public sealed class ForwardResult : IDisposable
{
    /// <summary><c>[B, T, V]</c> (or <c>[B, 1, V]</c> with <see cref="ForwardOptions.LastPositionLogitsOnly"/>), in the compute dtype.</summary>
    public required Tensor Logits { get; init; }

    /// <summary>
    /// <c>L + 1</c> tensors <c>[B, T, D]</c>, as transformers' <c>output_hidden_states</c>: entry 0 is the
    /// (scaled) embedding output, entry <c>i</c> the output of layer <c>i - 1</c>, and the last entry is the
    /// <b>normalised</b> output of the last layer. Null unless asked for.
    /// </summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; init; }

    /// <summary>The raw output of the last layer, before the final norm (transformers does not expose it). Null unless hidden states were asked for.</summary>
    public Tensor? PrenormLast { get; init; }

    /// <summary>Per layer, <c>[B, H, T, T]</c> fp32 post-softmax probabilities; masked entries are 0. Null unless asked for.</summary>
    public IReadOnlyList<Tensor>? Attentions { get; init; }

    /// <summary>Every tensor this result holds.</summary>
    public IEnumerable<Tensor> Tensors =>
        new[] { Logits, PrenormLast }.Concat(HiddenStates ?? []).Concat(Attentions ?? []).OfType<Tensor>();

    /// <summary>Takes every tensor out of its dispose scope: they live until <see cref="Dispose"/>.</summary>
    public ForwardResult Keep()
    {
        foreach (var t in Tensors) t.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Logits.Dispose();
        PrenormLast?.Dispose();
        foreach (var t in HiddenStates ?? []) t.Dispose();
        foreach (var t in Attentions ?? []) t.Dispose();
    }
}
