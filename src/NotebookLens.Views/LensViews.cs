using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using TorchSharp;

namespace NotebookLens.Views;

/// <summary>
/// The view of any result that carries what its view needs: one entry point for formatters and reports. Results that
/// need more context (neighbours need their query, a Patchscope sweep the tokenizer) have their own view's Create.
/// </summary>
public static class LensViews
{
    public static IReadOnlyList<Type> SupportedTypes { get; } =
    [
        typeof(View), typeof(torch.Tensor), typeof(LensModel), typeof(IReadOnlyList<TextToken>), typeof(LogitLensResult), typeof(SimilarityResult),
        typeof(AttentionMaps), typeof(PcaResult), typeof(IReadOnlyList<TemperatureDistribution>), typeof(RefusalExperimentResult),
    ];

    /// <summary>Whether <see cref="Of"/> has a view for values of this type.</summary>
    public static bool Supports(Type type) => SupportedTypes.Any(t => t.IsAssignableFrom(type));

    /// <summary>The view of <paramref name="result"/>; an <see cref="ArgumentException"/> names the types there are views for.</summary>
    public static View Of(object result) => result switch
    {
        View view => view,
        torch.Tensor tensor => TensorView.Create(tensor),
        LensModel model => ModelView.Create(model),
        IReadOnlyList<TextToken> tokens => TokensView.Create(tokens),
        LogitLensResult lens => LogitLensView.Create(lens),
        SimilarityResult similarity => SimilarityView.Create(similarity),
        AttentionMaps maps => AttentionView.Grid(AttentionData.From(maps)),
        PcaResult pca => PcaView.Create(pca),
        IReadOnlyList<TemperatureDistribution> temperatures => TemperatureView.Create(temperatures),
        RefusalExperimentResult refusal => RefusalView.Create(refusal),
        _ => throw new ArgumentException(
            $"There is no view for {result.GetType().Name}; views exist for {string.Join(", ", SupportedTypes.Select(t => t.Name))}.", nameof(result)),
    };
}
