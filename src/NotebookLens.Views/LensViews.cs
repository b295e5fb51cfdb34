using NotebookLens.Models;
using NotebookLens.Tokenization;
using TorchSharp;

namespace NotebookLens.Views;

/// <summary>The view of any result the core returns: one entry point for formatters, reports and the CLI.</summary>
public static class LensViews
{
    /// <summary>Whether <see cref="Of"/> has a view for values of this type.</summary>
    public static bool Supports(Type type) => SupportedTypes.Any(t => t.IsAssignableFrom(type));

    public static IReadOnlyList<Type> SupportedTypes { get; } =
    [
        typeof(torch.Tensor), typeof(LensModel), typeof(IReadOnlyList<TextToken>),
    ];

    /// <summary>The view of <paramref name="result"/>; an <see cref="ArgumentException"/> names the types there are views for.</summary>
    public static View Of(object result) => result switch
    {
        View view => view,
        torch.Tensor tensor => TensorView.Create(tensor),
        LensModel model => ModelView.Create(model),
        IReadOnlyList<TextToken> tokens => TokensView.Create(tokens),
        _ => throw new ArgumentException(
            $"There is no view for {result.GetType().Name}; views exist for {string.Join(", ", SupportedTypes.Select(t => t.Name))}.", nameof(result)),
    };
}
