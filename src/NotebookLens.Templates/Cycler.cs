namespace NotebookLens.Templates;

/// <summary>jinja2's <c>cycler(*items)</c> global: <c>.next()</c> returns items in turn, <c>.current</c>, <c>.reset()</c>.</summary>
internal sealed class Cycler(IReadOnlyList<object?> items)
{
    private int _position;

    public bool TryGetAttribute(string name, out object? value)
    {
        value = name switch
        {
            "current" => items[_position],
            "next" => new BuiltinFunction("cycler.next", (_, _) => Next()),
            "reset" => new BuiltinFunction("cycler.reset", (_, _) => Reset()),
            _ => null,
        };
        return name is "current" or "next" or "reset";
    }

    private object? Next()
    {
        object? item = items[_position];
        _position = (_position + 1) % items.Count;
        return item;
    }

    private object? Reset()
    {
        _position = 0;
        return null;
    }
}
