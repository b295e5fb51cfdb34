namespace NotebookLens.Templates;

/// <summary>
/// A Python dict: keys compare with Python equality (1 == 1.0 == True) and iteration follows
/// insertion order, which <c>tojson</c>, <c>items()</c> and printing all expose.
/// </summary>
internal sealed class PyDict
{
    private readonly List<object?> _keys = [];
    private readonly List<object?> _values = [];
    private readonly Dictionary<object, int> _index = new(PyKeyComparer.Instance);

    public int Count => _keys.Count;

    public IReadOnlyList<object?> Keys => _keys;

    public IReadOnlyList<object?> Values => _values;

    public IEnumerable<KeyValuePair<object?, object?>> Items =>
        _keys.Select((k, i) => new KeyValuePair<object?, object?>(k, _values[i]));

    /// <summary>Adds or replaces an entry; only used while building a dict (literals, conversion, namespace).</summary>
    public void Set(object? key, object? value)
    {
        object slot = PyKeyComparer.Slot(key);
        if (_index.TryGetValue(slot, out int i))
        {
            _values[i] = value;
            return;
        }

        _index[slot] = _keys.Count;
        _keys.Add(key);
        _values.Add(value);
    }

    public bool TryGet(object? key, out object? value)
    {
        if (PyKeyComparer.IsHashable(key) && _index.TryGetValue(PyKeyComparer.Slot(key), out int i))
        {
            value = _values[i];
            return true;
        }

        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => TryGet(key, out _);
}

/// <summary>Python hashing rules for dict keys: equal numbers hash alike, strings ordinally, tuples by content.</summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    private static readonly object NoneSlot = new();

    /// <summary>Dictionary keys cannot be null, so None is stored under a sentinel.</summary>
    public static object Slot(object? key)
    {
        if (!IsHashable(key))
            throw new TemplateRuntimeException($"unhashable type: '{PyRepr.TypeName(key)}'");
        return key ?? NoneSlot;
    }

    public static bool IsHashable(object? key) => key switch
    {
        PyList list => list.IsTuple && list.All(IsHashable),
        PyDict or Undefined or PyIterator => false,
        _ => true,
    };

    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y))
            return true;
        if (x == NoneSlot || y == NoneSlot)
            return false;
        return PyOps.AreEqual(x, y);
    }

    public int GetHashCode(object obj) => obj switch
    {
        string s => StringComparer.Ordinal.GetHashCode(s),
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
        double d => d.GetHashCode(),
        PyList tuple => tuple.Aggregate(17, (h, item) => HashCode.Combine(h, item is null ? 0 : GetHashCode(item))),
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj),
    };
}
