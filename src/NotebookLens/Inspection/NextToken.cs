using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>The most likely next tokens at one temperature.</summary>
public sealed record TemperatureDistribution(double Temperature, IReadOnlyList<LensPrediction> Top, double Entropy);

/// <summary>
/// The next-token distribution softmax(logits / T) at several temperatures: low T sharpens it towards the
/// argmax, high T flattens it (the lecture's "creative mode").
/// </summary>
public static class NextToken
{
    public static IReadOnlyList<TemperatureDistribution> AtTemperatures(LensModel lens, long[] ids, IReadOnlyList<double> temperatures, int k = 10)
    {
        if (temperatures.Any(t => !(t > 0))) throw new ArgumentOutOfRangeException(nameof(temperatures), "Temperatures must be > 0.");
        using var scope = NewDisposeScope();
        using var run = lens.Forward(ids, new ForwardOptions { LastPositionLogitsOnly = true });
        var logits = run.Logits[0, 0].to(ScalarType.Float32);
        return temperatures.Select(t =>
        {
            var probs = (logits / Scalars.Of(t)).softmax(0);
            var logProbs = (logits / Scalars.Of(t)).log_softmax(0);
            double entropy = -(probs * logProbs).nan_to_num().sum().item<float>();
            var (values, indices) = probs.topk(Math.Min(k, (int)probs.shape[0]));
            var idArray = indices.data<long>().ToArray();
            var probArray = values.data<float>().ToArray();
            var top = idArray.Select((id, i) => new LensPrediction((int)id, lens.Tokenizer.DisplayText((int)id), probArray[i], logits[id].item<float>())).ToList();
            return new TemperatureDistribution(t, top, entropy);
        }).ToList();
    }
}
