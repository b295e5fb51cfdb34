using NotebookLens.Views;

namespace NotebookLens.Interactive;

/// <summary>
/// The notebook outputs of this process (one kernel session in a host): shared by the formatters and <c>#!model</c>,
/// so plotly.js goes out with the session's first chart only, whichever of the two draws it.
/// </summary>
static class NotebookViews
{
    public static NotebookOutput Output { get; } = new();
}
