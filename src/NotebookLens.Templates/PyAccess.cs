namespace NotebookLens.Templates;

/// <summary>
/// jinja2's <c>a.b</c> and <c>a[b]</c> as the sandbox does them: <c>a.b</c> tries a Python attribute
/// (a method) first and then the key; <c>a[b]</c> tries the key first and then the attribute.
/// Anything missing is <see cref="Undefined"/>; reading from an Undefined is the caller's error.
/// </summary>
internal static class PyAccess
{
    private static readonly HashSet<string> StrMethods =
    [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ];

    private static readonly HashSet<string> DictMethods =
        ["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"];

    private static readonly HashSet<string> ListMethods =
        ["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"];

    public static object? GetAttr(object? obj, string name) =>
        TryGetAttribute(obj, name, out object? value) ? value : LookupKey(obj, name);

    public static object? GetItem(object? obj, object? key)
    {
        if (key is PyList { IsTuple: false } || key is PyDict)
            return Undefined.Attribute(obj, key);
        switch (obj)
        {
            case PyDict d when d.TryGet(key, out object? value):
                return value;
            case PyList { View: null } list when key is long or bool:
                return NormalizeIndex(PyOps.ToLong(key), list.Count) is int i ? list[i] : Undefined.Attribute(obj, key);
            case string s when key is long or bool:
                List<string> chars = PyText.CodePoints(s);
                return NormalizeIndex(PyOps.ToLong(key), chars.Count) is int j ? chars[j] : Undefined.Attribute(obj, key);
        }

        if (key is string name && TryGetAttribute(obj, name, out object? attr))
            return attr;
        return Undefined.Attribute(obj, key);
    }

    /// <summary>Python slicing <c>seq[start:stop:step]</c> of lists, tuples and strings.</summary>
    public static object? Slice(object? obj, long? start, long? stop, long? step)
    {
        switch (obj)
        {
            case PyList { View: null } list:
                return new PyList(SliceIndices(list.Count, start, stop, step).Select(i => list[i]).ToList(), list.IsTuple);
            case string s:
                List<string> chars = PyText.CodePoints(s);
                return string.Concat(SliceIndices(chars.Count, start, stop, step).Select(i => chars[i]));
            case Undefined u:
                throw new TemplateRuntimeException(u.Message);
            default:
                return Undefined.Because($"'{PyRepr.TypeName(obj)}' object is not subscriptable");
        }
    }

    /// <summary>Python's <c>slice.indices(len)</c> followed by <c>range(start, stop, step)</c>.</summary>
    public static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long? step)
    {
        long s = step ?? 1;
        if (s == 0)
            throw new TemplateRuntimeException("slice step cannot be zero");
        long lower = s < 0 ? -1 : 0;
        long upper = s < 0 ? length - 1 : length;
        long first = Clamp(start, s < 0 ? upper : lower);
        long last = Clamp(stop, s < 0 ? lower : upper);
        for (long i = first; s > 0 ? i < last : i > last; i += s)
            yield return (int)i;

        long Clamp(long? value, long fallback)
        {
            if (value is not long v)
                return fallback;
            if (v < 0)
                v += length;
            return Math.Clamp(v, lower, upper);
        }
    }

    /// <summary>Python's negative indexing; null when out of range.</summary>
    private static int? NormalizeIndex(long index, int count)
    {
        if (index < 0)
            index += count;
        return index >= 0 && index < count ? (int)index : null;
    }

    private static bool TryGetAttribute(object? obj, string name, out object? value)
    {
        switch (obj)
        {
            case string when StrMethods.Contains(name):
            case PyDict when DictMethods.Contains(name):
            case PyList { IsTuple: false, View: null } when ListMethods.Contains(name):
            case PyList { IsTuple: true } when name is "count" or "index":
                value = new BoundMethod(obj, name);
                return true;
            case Namespace ns:
                return ns.Attributes.TryGet(name, out value);
            case LoopContext loop:
                return loop.TryGetAttribute(name, out value);
            case Cycler cycler:
                return cycler.TryGetAttribute(name, out value);
            default:
                value = null;
                return false;
        }
    }

    private static object? LookupKey(object? obj, string name) =>
        obj is PyDict d && d.TryGet(name, out object? value) ? value : Undefined.Attribute(obj, name);
}
