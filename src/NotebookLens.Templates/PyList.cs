namespace NotebookLens.Templates;

/// <summary>
/// A Python list or tuple. Never mutated after construction: HF renders in jinja2's immutable
/// sandbox, so templates cannot change lists, and the caller's data is copied in anyway.
/// </summary>
internal sealed class PyList : IReadOnlyList<object?>
{
    private readonly List<object?> _items;

    public PyList(List<object?> items, bool isTuple = false, string? view = null)
    {
        _items = items;
        IsTuple = isTuple;
        View = view;
    }

    /// <summary>Tuples print as <c>(a, b)</c>, compare unequal to lists and are hashable.</summary>
    public bool IsTuple { get; }

    /// <summary>
    /// "dict_items", "dict_keys" or "dict_values" for what <c>d.items()</c> and friends return:
    /// iterable like a list, but printed as <c>dict_items([...])</c>, not indexable, not JSON-serialisable.
    /// </summary>
    public string? View { get; }

    public int Count => _items.Count;

    public object? this[int index] => _items[index];

    public static PyList Tuple(params object?[] items) => new([.. items], isTuple: true);

    public IEnumerator<object?> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
