using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;

/// <summary>MLP neurons, held to act(gate) · up written out.</summary>
public sealed class NeuronsTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    [Fact]
    public void Neurons_are_the_mlp_activations_and_their_maxima()
    {
        var lens = lenses.Llama;
        var prompt = lens.Prompt("The apple is green.");
        using var scope = NewDisposeScope();
        var activations = Neurons.Activations(lens, prompt, 1);
        Assert.Equal([prompt.Count, lens.Config.IntermediateSize], activations.shape);
        // Independent: act(gate) * up from the cached MLP input through the layer's own weights.
        var (_, cache) = lens.RunWithCache(prompt, CacheOptions.Of(HookPoints.ResidMid(1)));
        var resid = cache[HookPoints.ResidMid(1)][0].to(ScalarType.Float64);
        var norm = lens.Weight("model.layers.1.post_attention_layernorm.weight").to(ScalarType.Float64);
        var x = resid / (resid.pow(2).mean([1], keepdim: true) + lens.Config.RmsNormEps).sqrt() * norm;
        var gate = x.matmul(lens.Weight("model.layers.1.mlp.gate_proj.weight").to(ScalarType.Float64).t());
        var up = x.matmul(lens.Weight("model.layers.1.mlp.up_proj.weight").to(ScalarType.Float64).t());
        TensorAssert.Close(activations.to(ScalarType.Float64), nn.functional.silu(gate) * up, 1e-4, 1e-3, "act(gate) * up");

        var top = lens.Neurons(prompt, 1, k: 4);
        Assert.Equal(activations.max().item<float>(), top.Activations[0].Activation, 5);
        Assert.Equal(activations[top.Activations[0].Position, top.Activations[0].Neuron].item<float>(), top.Activations[0].Activation, 6);
        var over = lens.NeuronTokens(1, top.Activations[0].Neuron, ["The apple is green.", "今天天氣真好"], k: 3);
        Assert.True(over.Activations[0].Activation >= top.Activations[0].Activation - 1e-6);
        Assert.True(over.Activations.Zip(over.Activations.Skip(1)).All(p => p.First.Activation >= p.Second.Activation));
        Assert.Throws<LensException>(() => lens.Neurons(prompt, 5));
        Assert.Throws<LensException>(() => lens.NeuronTokens(0, lens.Config.IntermediateSize, ["x"]));
    }
}
