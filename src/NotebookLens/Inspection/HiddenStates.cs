using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;
using NotebookLens.Runtime;

namespace NotebookLens.Inspection;

/// <summary>One entry of <c>hidden_states</c>: its shape, each token's vector norm, and the first values of each token's vector.</summary>
/// <param name="Index">Index into <c>hidden_states</c> (0 = embedding output, L = normalised output of the last layer).</param>
/// <param name="Label">"embed", "layer 0" ... "final norm".</param>
/// <param name="Norms">Per token, the L2 norm of its vector.</param>
/// <param name="Preview">Per token, the first <see cref="HiddenStates.PreviewSize"/> values.</param>
public sealed record HiddenState(int Index, string Label, IReadOnlyList<long> Shape, IReadOnlyList<double> Norms, IReadOnlyList<double[]> Preview);

/// <summary>The L + 1 hidden states of one prompt, summarised (the full vectors come from <c>Forward</c>).</summary>
public sealed record HiddenStatesResult(ModelRef Model, Prompt Prompt, IReadOnlyList<HiddenState> States);

public static class HiddenStates
{
    public const int PreviewSize = 8;

    public static HiddenStatesResult Run(TextModel lens, Prompt prompt)
    {
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true, LastPositionLogitsOnly = true });
        int last = run.HiddenStates!.Count - 1;
        var states = run.HiddenStates.Select((h, i) =>
        {
            var x = h[0].to(ScalarType.Float32, CPU);
            var norms = x.norm(1).to(ScalarType.Float64).ToHostArray<double>();
            int size = (int)Math.Min(PreviewSize, x.shape[1]);
            var head = x.narrow(1, 0, size).to(ScalarType.Float64).contiguous().ToHostArray<double>();
            var preview = Enumerable.Range(0, prompt.Count).Select(t => head.AsSpan(t * size, size).ToArray()).ToList();
            string label = i == 0 ? "embed" : i == last ? "final norm" : $"layer {i - 1}";
            return new HiddenState(i, label, h.shape, norms, preview);
        }).ToList();
        return new HiddenStatesResult(lens.Ref, prompt, states);
    }
}
