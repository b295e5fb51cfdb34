using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>A neuron's activation at one token of one prompt.</summary>
public sealed record NeuronActivation(int Neuron, int Prompt, int Position, string Token, double Activation);

/// <summary>
/// MLP neurons: the activations <c>act(gate) · up</c> (<c>blocks.{l}.mlp.hook_post</c>) per token, the most
/// active neurons of a prompt, and the tokens that most activate one neuron over a set of prompts.
/// </summary>
public static class Neurons
{
    /// <summary>[T, I] float32 activations of a layer's neurons for each token of the text.</summary>
    public static (Tensor Activations, IReadOnlyList<string> Tokens) Activations(LensModel lens, string text, int layer)
    {
        CheckLayer(lens, layer);
        var ids = lens.Ids(text);
        using var scope = NewDisposeScope();
        var (run, cache) = lens.Model.RunWithCache(tensor(ids), CacheOptions.Of(HookPoints.Neurons(layer)) with { DType = ScalarType.Float32 });
        using (run)
        using (cache)
            return (cache[HookPoints.Neurons(layer)][0].clone().DetachFromDisposeScope(), lens.Labels(ids));
    }

    /// <summary>The <paramref name="k"/> neurons with the largest activation anywhere in the text, with where it happened.</summary>
    public static IReadOnlyList<NeuronActivation> Top(LensModel lens, string text, int layer, int k = 10)
    {
        var (activations, tokens) = Activations(lens, text, layer);
        using (activations)
        using (var scope = NewDisposeScope())
        {
            var (best, at) = activations.max(0);
            var (values, neurons) = best.topk(Math.Min(k, (int)best.shape[0]));
            var n = neurons.data<long>().ToArray();
            var v = values.data<float>().ToArray();
            var positions = at.data<long>().ToArray();
            return n.Select((neuron, i) => new NeuronActivation((int)neuron, 0, (int)positions[neuron], tokens[(int)positions[neuron]], v[i])).ToList();
        }
    }

    /// <summary>The tokens, over all prompts, at which one neuron fires most.</summary>
    public static IReadOnlyList<NeuronActivation> TopTokens(LensModel lens, IReadOnlyList<string> prompts, int layer, int neuron, int k = 10)
    {
        if (neuron < 0 || neuron >= lens.Config.IntermediateSize)
            throw new ArgumentOutOfRangeException(nameof(neuron), $"Neuron {neuron} is out of range; layers have neurons 0 .. {lens.Config.IntermediateSize - 1}.");
        var found = new List<NeuronActivation>();
        for (int p = 0; p < prompts.Count; p++)
        {
            var (activations, tokens) = Activations(lens, prompts[p], layer);
            using (activations)
            {
                var values = activations[.., neuron].data<float>().ToArray();
                found.AddRange(values.Select((v, t) => new NeuronActivation(neuron, p, t, tokens[t], v)));
            }
        }
        return found.OrderByDescending(f => f.Activation).Take(k).ToList();
    }

    static void CheckLayer(LensModel lens, int layer)
    {
        LayerRange.Check(layer, lens.Config.NumLayers);
    }
}
