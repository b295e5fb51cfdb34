using System.Text;

namespace NotebookLens.Templates;

/// <summary>
/// jinja2's built-in filters (the subset chat templates use), with Hugging Face's <c>tojson</c>.
/// Filters that return generators in jinja2 return <see cref="PyIterator"/> here.
/// </summary>
internal static class BuiltinFilters
{
    private delegate object? Filter(object? value, CallArgs args, RenderContext ctx);

    private static readonly Dictionary<string, Filter> Table = new(StringComparer.Ordinal)
    {
        ["abs"] = Abs,
        ["batch"] = Batch,
        ["capitalize"] = (v, a, _) => NoArgs(a, "capitalize", PyText.Capitalize(PyRepr.Str(v))),
        ["center"] = Center,
        ["count"] = (v, a, _) => NoArgs(a, "count", PyOps.Length(v)),
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = (v, a, _) => NoArgs(a, "escape", HtmlEscape(PyRepr.Str(v))),
        ["escape"] = (v, a, _) => NoArgs(a, "escape", HtmlEscape(PyRepr.Str(v))),
        ["first"] = First,
        ["float"] = Float,
        ["indent"] = Indent,
        ["int"] = Int,
        ["items"] = Items,
        ["join"] = Join,
        ["last"] = Last,
        ["length"] = (v, a, _) => NoArgs(a, "length", PyOps.Length(v)),
        ["list"] = (v, a, _) => NoArgs(a, "list", new PyList(PyOps.Iterate(v))),
        ["lower"] = (v, a, _) => NoArgs(a, "lower", PyRepr.Str(v).ToLowerInvariant()),
        ["map"] = Map,
        ["max"] = (v, a, _) => MinOrMax(v, a, "max", wantMax: true),
        ["min"] = (v, a, _) => MinOrMax(v, a, "min", wantMax: false),
        ["reject"] = (v, a, ctx) => SelectOrReject(v, a, ctx, "reject", byAttribute: false, keep: false),
        ["rejectattr"] = (v, a, ctx) => SelectOrReject(v, a, ctx, "rejectattr", byAttribute: true, keep: false),
        ["replace"] = Replace,
        ["reverse"] = Reverse,
        ["round"] = Round,
        ["safe"] = (v, a, _) => NoArgs(a, "safe", PyRepr.Str(v)),
        ["select"] = (v, a, ctx) => SelectOrReject(v, a, ctx, "select", byAttribute: false, keep: true),
        ["selectattr"] = (v, a, ctx) => SelectOrReject(v, a, ctx, "selectattr", byAttribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, a, _) => NoArgs(a, "string", PyRepr.Str(v)),
        ["sum"] = Sum,
        ["title"] = (v, a, _) => NoArgs(a, "title", Title(PyRepr.Str(v))),
        ["tojson"] = ToJson,
        ["trim"] = Trim,
        ["unique"] = Unique,
        ["upper"] = (v, a, _) => NoArgs(a, "upper", PyRepr.Str(v).ToUpperInvariant()),
        ["wordcount"] = WordCount,
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static object? Apply(string name, object? value, CallArgs args, RenderContext ctx) =>
        Table.TryGetValue(name, out Filter? filter)
            ? filter(value, args, ctx)
            : throw new TemplateRuntimeException($"unknown filter '{name}'");

    private static object? NoArgs(CallArgs args, string name, object? result)
    {
        args.Bind(name);
        return result;
    }

    private static object? Abs(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("abs");
        return value switch
        {
            double d => Math.Abs(d),
            long or bool => PyOps.ToLong(value) == long.MinValue
                ? throw new TemplateRuntimeException("integer result does not fit in 64 bits")
                : (object)Math.Abs(PyOps.ToLong(value)),
            Undefined u => throw new TemplateRuntimeException(u.Message),
            _ => throw new TemplateRuntimeException($"bad operand type for abs(): '{PyRepr.TypeName(value)}'"),
        };
    }

    private static object? Batch(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("batch", "linecount", "fill_with");
        long size = a.Required(0) is long or bool ? PyOps.ToLong(a.Required(0)) : throw new TemplateRuntimeException("linecount must be an integer");
        if (size <= 0)
            throw new TemplateRuntimeException("linecount must be positive");
        int step = PyOps.Width(size, "batch size");
        List<object?> items = PyOps.Iterate(value);
        var batches = new List<object?>();
        for (int i = 0; i < items.Count; i += step)
        {
            List<object?> batch = items.Skip(i).Take(step).ToList();
            if (a.Has(1) && a.Get(1) is not null)
            {
                while (batch.Count < step)
                    batch.Add(a.Get(1));
            }

            batches.Add(new PyList(batch));
        }

        return new PyIterator("batch", batches);
    }

    private static object? Center(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("center", "width");
        return PyText.Center(PyRepr.Str(value), PyOps.Width(RequireInt(a.Get(0, 80L), "width"), "center width"));
    }

    /// <summary><c>default(value, default_value='', boolean=False)</c>: replaces undefined (or, with boolean, any falsy) values.</summary>
    private static object? Default(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("default", "default_value", "boolean");
        bool replace = value is Undefined || (PyOps.IsTrue(a.Get(1, false)) && !PyOps.IsTrue(value));
        return replace ? a.Get(0, "") : value;
    }

    private static object? DictSort(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("dictsort", "case_sensitive", "by", "reverse");
        if (value is not PyDict dict)
            throw new TemplateRuntimeException($"dictsort needs a mapping, got '{PyRepr.TypeName(value)}'");
        int position = PyRepr.Str(a.Get(1, "key")) switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateRuntimeException("You can only sort by either 'key' or 'value'"),
        };
        bool caseSensitive = PyOps.IsTrue(a.Get(0, false));
        IEnumerable<object?> pairs = dict.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value));
        return new PyList(SortBy(pairs, item =>
        {
            object? key = ((PyList)item!)[position];
            return caseSensitive || key is not string s ? key : s.ToLowerInvariant();
        }, PyOps.IsTrue(a.Get(2, false))));
    }

    private static object? First(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("first");
        if (value is PyIterator it)
            return it.TryTakeFirst(out object? item) ? item : Undefined.Because("No first item, sequence was empty.");
        List<object?> items = PyOps.Iterate(value);
        return items.Count > 0 ? items[0] : Undefined.Because("No first item, sequence was empty.");
    }

    private static object? Last(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("last");
        if (value is PyIterator)
            throw new TemplateRuntimeException("'generator' object is not reversible (add '| list' before '| last')");
        List<object?> items = PyOps.Iterate(value);
        return items.Count > 0 ? items[^1] : Undefined.Because("No last item, sequence was empty.");
    }

    private static object? Float(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("float", "default");
        object? fallback = a.Get(0, 0.0);
        return value switch
        {
            Undefined u => throw new TemplateRuntimeException(u.Message),
            double or long or bool => PyOps.ToDouble(value),
            string s => PyNumber.TryParseFloat(s, out double d) ? d : fallback,
            _ => fallback,
        };
    }

    /// <summary>jinja2's <c>int</c>: parses strings in <c>base</c>, truncates floats, and falls back to <c>default</c>.</summary>
    private static object? Int(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("int", "default", "base");
        object? fallback = a.Get(0, 0L);
        long numberBase = RequireInt(a.Get(1, 10L), "base");
        switch (value)
        {
            case Undefined u:
                throw new TemplateRuntimeException(u.Message);
            case long or bool:
                return PyOps.ToLong(value);
            case double d:
                return TruncateFloat(d, fallback);
            case string s:
                if (PyNumber.TryParseInt(s, numberBase, out long n))
                    return n;
                // jinja2's quirk: "42.23" | int gives 42 via float().
                return PyNumber.TryParseFloat(s, out double f) ? TruncateFloat(f, fallback) : fallback;
            default:
                return fallback;
        }
    }

    private static object? TruncateFloat(double d, object? fallback)
    {
        if (double.IsNaN(d))
            return fallback;
        if (double.IsInfinity(d) || Math.Abs(d) >= 9.2e18)
            throw new TemplateRuntimeException("cannot convert float infinity or huge value to integer");
        return (long)Math.Truncate(d);
    }

    /// <summary>jinja2 3.1's <c>indent(s, width=4, first=False, blank=False)</c>, including its splitlines() quirks.</summary>
    private static object? Indent(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("indent", "width", "first", "blank");
        string s = value switch
        {
            string text => text,
            Undefined u => throw new TemplateRuntimeException(u.Message),
            _ => throw new TemplateRuntimeException($"indent needs a string, got '{PyRepr.TypeName(value)}'"),
        };
        object? width = a.Get(0, 4L);
        string indentation = width is string w ? w : new string(' ', Math.Max(0, PyOps.Width(RequireInt(width, "width"), "indent width")));
        List<string> lines = PyText.SplitLines(s + "\n");
        string result;
        if (PyOps.IsTrue(a.Get(2, false)))
        {
            result = string.Join("\n" + indentation, lines);
        }
        else
        {
            result = lines[0];
            if (lines.Count > 1)
                result += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indentation + line : line));
        }

        return PyOps.IsTrue(a.Get(1, false)) ? indentation + result : result;
    }

    private static object? Items(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("items");
        return value switch
        {
            Undefined => new PyIterator("items", []),
            PyDict d => new PyIterator("items", d.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value))),
            _ => throw new TemplateRuntimeException("Can only get item pairs from a mapping."),
        };
    }

    private static object? Join(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("join", "d", "attribute");
        IEnumerable<object?> items = PyOps.Iterate(value);
        if (a.Get(1) is { } attribute)
            items = items.Select(new AttributeGetter(attribute).Get);
        return string.Join(PyRepr.Str(a.Get(0, "")), items.Select(PyRepr.Str));
    }

    /// <summary><c>map('filter', args...)</c> or <c>map(attribute='name', default=x)</c>.</summary>
    private static object? Map(object? value, CallArgs args, RenderContext ctx)
    {
        Func<object?, object?> transform;
        if (args.Positional.Count == 0 && args.Named.Any(n => n.Key == "attribute"))
        {
            BoundArgs a = new CallArgs([], args.Named).Bind("map", "attribute", "default");
            transform = new AttributeGetter(a.Get(0), a.Get(1)).Get;
        }
        else
        {
            if (args.Positional.Count == 0)
                throw new TemplateRuntimeException("map requires a filter argument");
            string name = args.Positional[0] as string ?? throw new TemplateRuntimeException("map's first argument must be a filter name");
            if (!Exists(name))
                throw new TemplateRuntimeException($"unknown filter '{name}' passed to map");
            var rest = new CallArgs(args.Positional.Skip(1).ToList(), args.Named);
            transform = item => Apply(name, item, rest, ctx);
        }

        return new PyIterator("map", PyOps.Iterate(value).Select(transform).ToList());
    }

    private static object? MinOrMax(object? value, CallArgs args, string name, bool wantMax)
    {
        BoundArgs a = args.Bind(name, "case_sensitive", "attribute");
        List<object?> items = PyOps.Iterate(value);
        if (items.Count == 0)
            return Undefined.Because("No aggregated item, sequence was empty.");
        var key = new AttributeGetter(a.Get(1), ignoreCase: !PyOps.IsTrue(a.Get(0, false)));
        object? best = items[0];
        object? bestKey = key.Get(best);
        foreach (object? item in items.Skip(1))
        {
            object? k = key.Get(item);
            int cmp = PyOps.Compare(k, bestKey, wantMax ? ">" : "<");
            if (wantMax ? cmp > 0 : cmp < 0)
            {
                best = item;
                bestKey = k;
            }
        }

        return best;
    }

    /// <summary>select/reject/selectattr/rejectattr: keep items for which the named test (or truthiness) holds.</summary>
    private static object? SelectOrReject(object? value, CallArgs args, RenderContext ctx, string name, bool byAttribute, bool keep)
    {
        int offset = 0;
        Func<object?, object?> transform = x => x;
        if (byAttribute)
        {
            if (args.Positional.Count == 0)
                throw new TemplateRuntimeException("Missing parameter for attribute name");
            transform = new AttributeGetter(args.Positional[0]).Get;
            offset = 1;
        }

        Func<object?, bool> predicate = PyOps.IsTrue;
        if (args.Positional.Count > offset)
        {
            string test = args.Positional[offset] as string ?? throw new TemplateRuntimeException($"{name} expects a test name");
            if (!BuiltinTests.Exists(test))
                throw new TemplateRuntimeException($"unknown test '{test}' passed to {name}");
            var testArgs = new CallArgs(args.Positional.Skip(offset + 1).ToList(), args.Named);
            predicate = x => BuiltinTests.Run(test, x, testArgs, ctx);
        }
        else
        {
            args.RejectNamed(name);
        }

        return new PyIterator(name, PyOps.Iterate(value).Where(item => predicate(transform(item)) == keep).ToList());
    }

    private static object? Replace(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("replace", "old", "new", "count");
        long count = a.Get(2) is { } c ? RequireInt(c, "count") : -1;
        return PyText.Replace(PyRepr.Str(value), PyRepr.Str(a.Required(0)), PyRepr.Str(a.Required(1)), (int)Math.Clamp(count, -1, int.MaxValue));
    }

    private static object? Reverse(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("reverse");
        switch (value)
        {
            case string s:
                List<string> chars = PyText.CodePoints(s);
                chars.Reverse();
                return string.Concat(chars);
            case PyIterator it:
                // reversed() rejects generators, so jinja2 falls back to building a reversed list.
                List<object?> drained = it.Drain();
                drained.Reverse();
                return new PyList(drained);
            default:
                List<object?> items = PyOps.Iterate(value);
                items.Reverse();
                return new PyIterator("reverse", items);
        }
    }

    private static object? Round(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("round", "precision", "method");
        long precision = RequireInt(a.Get(0, 0L), "precision");
        string method = PyRepr.Str(a.Get(1, "common"));
        if (value is Undefined u)
            throw new TemplateRuntimeException(u.Message);
        if (!PyOps.IsNumber(value))
            throw new TemplateRuntimeException($"type {PyRepr.TypeName(value)} doesn't define __round__ method");
        switch (method)
        {
            case "common":
                return value is double d ? PyNumber.Round(d, precision) : (object)PyNumber.RoundInt(PyOps.ToLong(value), precision);
            case "ceil":
            case "floor":
                double scale = Math.Pow(10, precision);
                double scaled = PyOps.ToDouble(value) * scale;
                return (method == "ceil" ? Math.Ceiling(scaled) : Math.Floor(scaled)) / scale;
            default:
                throw new TemplateRuntimeException("method must be common, ceil or floor");
        }
    }

    private static object? Sort(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("sort", "reverse", "case_sensitive", "attribute");
        AttributeGetter[] getters = AttributeGetter.Multi(a.Get(2), ignoreCase: !PyOps.IsTrue(a.Get(1, false)));
        object? Key(object? item) => getters.Length == 1 ? getters[0].Get(item) : new PyList(getters.Select(g => g.Get(item)).ToList());
        return new PyList(SortBy(PyOps.Iterate(value), Key, PyOps.IsTrue(a.Get(0, false))));
    }

    /// <summary>Python's <c>sorted(key=..., reverse=...)</c>: stable in both directions.</summary>
    private static List<object?> SortBy(IEnumerable<object?> items, Func<object?, object?> key, bool descending)
    {
        var comparer = Comparer<object?>.Create((x, y) => PyOps.Compare(x, y, "<"));
        return descending ? items.OrderByDescending(key, comparer).ToList() : items.OrderBy(key, comparer).ToList();
    }

    private static object? Sum(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("sum", "attribute", "start");
        IEnumerable<object?> items = PyOps.Iterate(value);
        if (a.Get(0) is { } attribute)
            items = items.Select(new AttributeGetter(attribute).Get);
        return items.Aggregate(a.Get(1, 0L), PyOps.Add);
    }

    /// <summary>jinja2's <c>title</c> filter (not <c>str.title</c>): words start after spaces, '-', and opening brackets.</summary>
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool separator = c is '-' or '(' or '{' or '[' or '<' || PyText.IsSpace(c);
            sb.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }

        return sb.ToString();
    }

    /// <summary>Hugging Face's override: <c>json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)</c>.</summary>
    private static object? ToJson(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
        string? indent = a.Get(1) switch
        {
            null => null,
            string s => s,
            long or bool => new string(' ', Math.Max(0, PyOps.Width(PyOps.ToLong(a.Get(1)), "tojson indent"))),
            object other => throw new TemplateRuntimeException($"indent must be an integer or string, got '{PyRepr.TypeName(other)}'"),
        };
        string itemSeparator = indent is null ? ", " : ",";
        string keySeparator = ": ";
        if (a.Get(2) is { } separators)
        {
            if (separators is not PyList { Count: 2 } pair || pair[0] is not string item || pair[1] is not string key)
                throw new TemplateRuntimeException("separators must be a pair of strings");
            (itemSeparator, keySeparator) = (item, key);
        }

        return PyJson.Dumps(value, indent, itemSeparator, keySeparator, PyOps.IsTrue(a.Get(3, false)), PyOps.IsTrue(a.Get(0, false)));
    }

    private static object? Trim(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("trim", "chars");
        return PyText.Strip(PyRepr.Str(value), a.Get(0) is null ? null : PyRepr.Str(a.Get(0)));
    }

    private static object? Unique(object? value, CallArgs args, RenderContext ctx)
    {
        BoundArgs a = args.Bind("unique", "case_sensitive", "attribute");
        var key = new AttributeGetter(a.Get(1), ignoreCase: !PyOps.IsTrue(a.Get(0, false)));
        var seen = new PyDict();
        var result = new List<object?>();
        foreach (object? item in PyOps.Iterate(value))
        {
            object? k = key.Get(item);
            if (seen.ContainsKey(k))
                continue;
            seen.Set(k, null);
            result.Add(item);
        }

        return new PyIterator("unique", result);
    }

    private static object? WordCount(object? value, CallArgs args, RenderContext ctx)
    {
        args.Bind("wordcount");
        string s = PyRepr.Str(value);
        long words = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (PyText.IsWordChar(s[i]) && (i == 0 || !PyText.IsWordChar(s[i - 1])))
                words++;
        }

        return words;
    }

    /// <summary>markupsafe's escape: &amp; &lt; &gt; " ' become entities.</summary>
    private static string HtmlEscape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);

    private static long RequireInt(object? value, string what) => value is long or bool
        ? PyOps.ToLong(value)
        : throw new TemplateRuntimeException($"{what} must be an integer, got '{PyRepr.TypeName(value)}'");
}
