namespace NotebookLens.Templates;

/// <summary>
/// jinja2's <c>namespace()</c> object: the one thing a template may assign into
/// (<c>set ns.attr = ...</c>), which is how values escape a for loop's scope.
/// </summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}
