namespace NotebookLens.Templates;

/// <summary>
/// jinja2's <c>make_attrgetter</c>, behind the <c>attribute=</c> argument of map, sort, selectattr, ...:
/// "a.b.0" reads <c>item['a']['b'][0]</c>, each step key-first like <c>item[...]</c>.
/// </summary>
internal sealed class AttributeGetter
{
    private readonly object?[] _parts;
    private readonly object? _default;
    private readonly bool _ignoreCase;

    public AttributeGetter(object? attribute, object? fallback = null, bool ignoreCase = false)
    {
        _parts = attribute switch
        {
            null => [],
            string s => s.Split('.').Select(p => long.TryParse(p, out long n) && p.All(char.IsAsciiDigit) ? (object?)n : p).ToArray(),
            _ => [attribute],
        };
        _default = fallback;
        _ignoreCase = ignoreCase;
    }

    /// <summary>Comma-separated attributes (<c>sort(attribute='a,b')</c>) give one getter each.</summary>
    public static AttributeGetter[] Multi(object? attribute, bool ignoreCase) => attribute is string s
        ? s.Split(',').Select(a => new AttributeGetter(a, ignoreCase: ignoreCase)).ToArray()
        : [new AttributeGetter(attribute, ignoreCase: ignoreCase)];

    public object? Get(object? item)
    {
        foreach (object? part in _parts)
        {
            if (item is Undefined u)
                throw new TemplateRuntimeException(u.Message);
            item = PyAccess.GetItem(item, part);
            if (_default is not null && item is Undefined)
                item = _default;
        }

        return _ignoreCase && item is string s ? s.ToLowerInvariant() : item;
    }
}
