namespace NotebookLens.Templates;

/// <summary>
/// A Python generator or iterator, as returned by jinja2's <c>map</c>, <c>select</c>,
/// <c>selectattr</c>, <c>reverse</c>, <c>items</c>, ... Modelled because it behaves unlike a list in
/// ways real templates hit: it is always truthy (even when empty), has no length, and is used up
/// by the first iteration.
/// </summary>
internal sealed class PyIterator
{
    private List<object?>? _remaining;

    public PyIterator(string origin, IEnumerable<object?> items)
    {
        Origin = origin;
        _remaining = items.ToList();
    }

    /// <summary>The filter that produced it, named in error messages.</summary>
    public string Origin { get; }

    /// <summary>Returns the items not yet consumed and marks them consumed.</summary>
    public List<object?> Drain()
    {
        List<object?> items = _remaining ?? [];
        _remaining = null;
        return items;
    }

    /// <summary>Consumes just the first item, as Python's <c>next()</c> does.</summary>
    public bool TryTakeFirst(out object? item)
    {
        if (_remaining is not { Count: > 0 })
        {
            item = null;
            return false;
        }

        item = _remaining[0];
        _remaining.RemoveAt(0);
        return true;
    }
}
