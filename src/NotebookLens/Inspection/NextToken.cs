using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>The most likely next tokens at one temperature.</summary>
public sealed record TemperatureDistribution(double Temperature, IReadOnlyList<LensPrediction> Top, double Entropy);

/// <summary>The next-token distribution of a prompt at several temperatures.</summary>
public sealed record TemperatureResult(ModelRef Model, Prompt Prompt, IReadOnlyList<TemperatureDistribution> Distributions);

/// <summary>
/// The next-token distribution softmax(logits / T) at several temperatures: low T sharpens it towards the
/// argmax, high T flattens it (the lecture's "creative mode").
/// </summary>
public static class NextToken
{
    public static TemperatureResult AtTemperatures(TextModel lens, Prompt prompt, IReadOnlyList<double> temperatures, int k = 10)
    {
        if (temperatures.Count == 0 || temperatures.Any(t => !(t > 0)))
            throw new LensException(LensErrorKind.OutOfRange, "Temperatures must be > 0.", "Give one or more positive temperatures, e.g. 0.5, 1, 2.", "temperatures");
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { LastPositionLogitsOnly = true });
        var logits = run.Logits[0, 0].to(ScalarType.Float32, CPU);
        var all = logits.ToHostArray<float>();
        var distributions = temperatures.Select(t =>
        {
            var probs = (logits / Scalars.Of(t)).softmax(0);
            var logProbs = (logits / Scalars.Of(t)).log_softmax(0);
            double entropy = -(probs * logProbs).nan_to_num().sum().item<float>();
            var (values, indices) = probs.topk(Math.Min(k, (int)probs.shape[0]));
            var idArray = indices.ToHostArray<long>();
            var probArray = values.ToHostArray<float>();
            var top = idArray.Select((id, i) => new LensPrediction((int)id, lens.TokenText((int)id), probArray[i], all[id])).ToList();
            return new TemperatureDistribution(t, top, entropy);
        }).ToList();
        return new TemperatureResult(lens.Ref, prompt, distributions);
    }
}
