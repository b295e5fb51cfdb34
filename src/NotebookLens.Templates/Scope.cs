namespace NotebookLens.Templates;

/// <summary>
/// A level of variables. jinja2 gives each for-loop iteration, macro call and block a new level,
/// so a <c>set</c> there is not seen outside it, while <c>if</c> bodies share their enclosing level.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public bool TryGet(string name, out object? value)
    {
        for (Scope? s = this; s is not null; s = s.Parent)
        {
            if (s._variables.TryGetValue(name, out value))
                return true;
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
