using NotebookLens.Views;

namespace NotebookLens.Interactive;

/// <summary>What a command shows (its view) and the typed result <c>--as</c> puts into a C# variable.</summary>
sealed record Output(object Value, View View)
{
    /// <summary>A result of the core, shown with its view from NotebookLens.Views.</summary>
    public static Output Of(object value) => new(value, LensViews.Of(value));
}
