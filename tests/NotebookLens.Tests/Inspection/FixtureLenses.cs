using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Inspection;


/// <summary>fp32 fixture models with their real tokenizers, loaded once.</summary>
public sealed class FixtureLenses : IDisposable
{
    public LensModel Llama { get; } = LensModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
    public LensModel Gemma { get; } = LensModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });

    public LensModel Get(string name) => name == "llama" ? Llama : Gemma;

    public void Dispose()
    {
        Llama.Dispose();
        Gemma.Dispose();
    }
}

/// <summary>The lecture's prompts, shared by the analysis tests.</summary>
public static class Prompts
{
    public const string Colour = "The apple is green. What color is the apple?";
    public const string Weather = "今天天氣真";
}

/// <summary>Hidden states written out as doubles, and cosines by hand: the independent side of the analysis tests.</summary>
public static class ByHand
{
    public static double[][][] HiddenAsDoubles(LensModel lens, string text)
    {
        using var scope = NewDisposeScope();
        var run = lens.Forward(text, new ForwardOptions { HiddenStates = true });
        return run.HiddenStates!.Select(h =>
        {
            var x = h[0].to(ScalarType.Float64);
            long d = x.shape[1];
            var flat = x.contiguous().data<double>().ToArray();
            return Enumerable.Range(0, (int)x.shape[0]).Select(t => flat.AsSpan((int)(t * d), (int)d).ToArray()).ToArray();
        }).ToArray();
    }

    public static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
