namespace NotebookLens.Templates;

/// <summary>
/// jinja2's default <c>Undefined</c>: what a missing variable, attribute or key evaluates to.
/// It is falsy, prints as "", iterates as empty, and raises when anything reads from it.
/// </summary>
internal sealed class Undefined
{
    private Undefined(string message) => Message = message;

    /// <summary>jinja2's explanation of why the value is undefined, used in error messages.</summary>
    public string Message { get; }

    public static Undefined Variable(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, object? name) => name is string s
        ? new($"'{PyRepr.ObjectTypeName(owner)}' has no attribute '{s}'")
        : new($"{PyRepr.ObjectTypeName(owner)} has no element {PyRepr.Repr(name)}");

    public static Undefined Because(string message) => new(message);
}
