using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using TorchSharp;

namespace NotebookLens.Views;

/// <summary>The view of any result of the core: one entry point for formatters, reports and the CLI.</summary>
public static class LensViews
{
    public static IReadOnlyList<Type> SupportedTypes { get; } =
    [
        typeof(View), typeof(torch.Tensor), typeof(LensModel), typeof(ModelSummary), typeof(Prompt), typeof(Matrix), typeof(NeighborsResult),
        typeof(HiddenStatesResult), typeof(SimilarityResult), typeof(LogitLensResult), typeof(AttentionResult), typeof(NeuronsResult), typeof(PcaResult),
        typeof(TemperatureResult), typeof(GenerationOutput), typeof(RefusalExperimentResult), typeof(PatchscopeSweep),
    ];

    /// <summary>Whether <see cref="Of"/> has a view for values of this type.</summary>
    public static bool Supports(Type type) => SupportedTypes.Any(t => t.IsAssignableFrom(type));

    /// <summary>The plain-text view of <paramref name="result"/> (what a terminal or a <c>text/plain</c> output shows).</summary>
    public static string ToText(object result) => Of(result).Text;

    /// <summary>The view of <paramref name="result"/> (an attention result shows its grid of heads); an <see cref="ArgumentException"/> names the types there are views for.</summary>
    public static View Of(object result) => result switch
    {
        View view => view,
        torch.Tensor tensor => TensorView.Create(tensor),
        LensModel model => ModelView.Create(model),
        ModelSummary summary => ModelView.Create(summary),
        Prompt prompt => TokensView.Create(prompt),
        Matrix matrix => MatrixView.Create(matrix),
        NeighborsResult neighbors => NeighborsView.Create(neighbors),
        HiddenStatesResult hidden => HiddenStatesView.Create(hidden),
        SimilarityResult similarity => SimilarityView.Create(similarity),
        LogitLensResult lens => LogitLensView.Create(lens),
        AttentionResult attention => AttentionView.Grid(attention),
        NeuronsResult neurons => NeuronsView.Create(neurons),
        PcaResult pca => PcaView.Create(pca),
        TemperatureResult temperatures => TemperatureView.Create(temperatures),
        GenerationOutput generation => GenerationView.Create(generation),
        RefusalExperimentResult refusal => RefusalView.Create(refusal),
        PatchscopeSweep patchscope => PatchscopeView.Create(patchscope),
        _ => throw new ArgumentException(
            $"There is no view for {result.GetType().Name}; views exist for {string.Join(", ", SupportedTypes.Select(t => t.Name))}.", nameof(result)),
    };
}
