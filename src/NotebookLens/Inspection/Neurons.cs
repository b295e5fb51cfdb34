using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>A neuron's activation at one token of one prompt.</summary>
/// <param name="Prompt">Index of the prompt in <see cref="NeuronsResult.Prompts"/>.</param>
public sealed record NeuronActivation(int Neuron, int Prompt, int Position, string Token, double Activation);

/// <summary>Neuron activations found in a layer: the most active neurons of a prompt, or where one neuron fires most.</summary>
/// <param name="Neuron">The neuron followed, or null for the most active neurons of one prompt.</param>
public sealed record NeuronsResult(ModelRef Model, int Layer, int? Neuron, IReadOnlyList<Prompt> Prompts, IReadOnlyList<NeuronActivation> Activations);

/// <summary>
/// MLP neurons: the activations <c>act(gate) · up</c> (<c>blocks.{l}.mlp.hook_post</c>) per token, the most
/// active neurons of a prompt, and the tokens that most activate one neuron over a set of prompts.
/// </summary>
public static class Neurons
{
    /// <summary>[T, I] float32 activations of a layer's neurons for each token, in the caller's dispose scope (<see cref="Ownership"/>).</summary>
    public static Tensor Activations(TextModel lens, Prompt prompt, int layer)
    {
        Ranges.Check(layer, lens.Config.NumLayers, "layer");
        using var scope = NewDisposeScope();
        var (_, cache) = lens.RunWithCache(prompt, CacheOptions.Of(HookPoints.Neurons(layer)) with { DType = ScalarType.Float32 });
        return cache[HookPoints.Neurons(layer)][0].clone().MoveToOuterDisposeScope();
    }

    /// <summary>The <paramref name="k"/> neurons with the largest activation anywhere in the prompt, with where it happened.</summary>
    public static NeuronsResult Top(TextModel lens, Prompt prompt, int layer, int k = 10)
    {
        using var scope = NewDisposeScope();
        var activations = Activations(lens, prompt, layer);
        var (best, at) = activations.max(0);
        var (values, neurons) = best.topk(Math.Min(k, (int)best.shape[0]));
        var n = neurons.ToHostArray<long>();
        var v = values.ToHostArray<float>();
        var positions = at.ToHostArray<long>();
        var found = n.Select((neuron, i) => new NeuronActivation((int)neuron, 0, (int)positions[neuron], prompt.Tokens[(int)positions[neuron]].Text, v[i])).ToList();
        return new NeuronsResult(lens.Ref, layer, null, [prompt], found);
    }

    /// <summary>The tokens, over all prompts, at which one neuron fires most.</summary>
    public static NeuronsResult TopTokens(TextModel lens, IReadOnlyList<Prompt> prompts, int layer, int neuron, int k = 10)
    {
        Ranges.Check(neuron, lens.Config.IntermediateSize, "neuron", "each layer");
        var found = new List<NeuronActivation>();
        for (int p = 0; p < prompts.Count; p++)
        {
            using var scope = NewDisposeScope();
            var values = Activations(lens, prompts[p], layer)[.., neuron].ToHostArray<float>();
            found.AddRange(values.Select((v, t) => new NeuronActivation(neuron, p, t, prompts[p].Tokens[t].Text, v)));
        }
        return new NeuronsResult(lens.Ref, layer, neuron, prompts, found.OrderByDescending(f => f.Activation).Take(k).ToList());
    }
}
