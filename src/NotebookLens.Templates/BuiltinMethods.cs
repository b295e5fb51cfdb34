using System.Text;

namespace NotebookLens.Templates;

/// <summary>
/// Python methods of str, dict and list that templates call (<c>content.strip()</c>,
/// <c>message.get('x')</c>). Mutating methods raise, as in HF's immutable sandbox.
/// </summary>
internal static class BuiltinMethods
{
    private static readonly HashSet<string> Mutators =
        ["append", "clear", "extend", "insert", "pop", "popitem", "remove", "reverse", "setdefault", "sort", "update"];

    public static object? Call(object target, string name, CallArgs args)
    {
        if (Mutators.Contains(name) && target is PyList or PyDict)
        {
            throw new TemplateRuntimeException(
                $"the template tried to mutate a {PyRepr.TypeName(target)} with '{name}'; Hugging Face renders chat templates in " +
                "jinja2's immutable sandbox, which forbids this");
        }

        return target switch
        {
            string s => CallString(s, name, args),
            PyDict d => CallDict(d, name, args),
            PyList l => CallList(l, name, args),
            _ => throw Unsupported(target, name),
        };
    }

    private static object? CallString(string s, string name, CallArgs args)
    {
        string m = "str." + name;
        switch (name)
        {
            case "strip": return PyText.Strip(s, OptionalString(args.Bind(m, "chars").Get(0), m));
            case "lstrip": return PyText.LStrip(s, OptionalString(args.Bind(m, "chars").Get(0), m));
            case "rstrip": return PyText.RStrip(s, OptionalString(args.Bind(m, "chars").Get(0), m));
            case "split":
            case "rsplit":
            {
                BoundArgs a = args.Bind(m, "sep", "maxsplit");
                string? sep = OptionalString(a.Get(0), m);
                int max = (int)Math.Clamp(Int(a.Get(1, -1L), m), -1, int.MaxValue);
                return new PyList(name == "split" ? PyText.Split(s, sep, max) : PyText.RSplit(s, sep, max));
            }

            case "splitlines":
                return new PyList(PyText.SplitLines(s, PyOps.IsTrue(args.Bind(m, "keepends").Get(0, false))).Cast<object?>().ToList());
            case "startswith":
            case "endswith":
                return StartsOrEndsWith(s, name == "startswith", args.Bind(m, "prefix", "start", "end"), m);
            case "upper": return NoArgs(args, m, s.ToUpperInvariant());
            case "lower": return NoArgs(args, m, s.ToLowerInvariant());
            case "casefold": return NoArgs(args, m, s.ToLowerInvariant());
            case "title": return NoArgs(args, m, PyText.Title(s));
            case "capitalize": return NoArgs(args, m, PyText.Capitalize(s));
            case "swapcase": return NoArgs(args, m, PyText.SwapCase(s));
            case "replace":
            {
                BoundArgs a = args.Bind(m, "old", "new", "count");
                return PyText.Replace(s, Str(a.Required(0), m), Str(a.Required(1), m), (int)Math.Clamp(Int(a.Get(2, -1L), m), -1, int.MaxValue));
            }

            case "find":
            case "rfind":
            case "index":
            case "rindex":
                return Find(s, name, args.Bind(m, "sub", "start", "end"), m);
            case "count": return (long)PyText.Count(s, Str(args.Bind(m, "sub").Required(0), m));
            case "join": return JoinStrings(s, args.Bind(m, "iterable").Required(0));
            case "format": return Format(s, args);
            case "isdigit":
            case "isdecimal":
            case "isnumeric":
                return NoArgs(args, m, s.Length > 0 && s.All(char.IsDigit));
            case "isalpha": return NoArgs(args, m, s.Length > 0 && s.All(char.IsLetter));
            case "isalnum": return NoArgs(args, m, s.Length > 0 && s.All(char.IsLetterOrDigit));
            case "isspace": return NoArgs(args, m, s.Length > 0 && s.All(PyText.IsSpace));
            case "islower": return NoArgs(args, m, PyText.IsCasedLower(s));
            case "isupper": return NoArgs(args, m, PyText.IsCasedUpper(s));
            case "removeprefix":
            {
                string prefix = Str(args.Bind(m, "prefix").Required(0), m);
                return s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
            }

            case "removesuffix":
            {
                string suffix = Str(args.Bind(m, "suffix").Required(0), m);
                return suffix.Length > 0 && s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;
            }

            case "center":
            case "ljust":
            case "rjust":
                return Justify(s, name, args.Bind(m, "width", "fillchar"), m);
            case "zfill":
                return ZFill(s, PyOps.Width(Int(args.Bind(m, "width").Required(0), m), m + " width"));
            default:
                throw Unsupported(s, name);
        }
    }

    private static object? CallDict(PyDict d, string name, CallArgs args)
    {
        string m = "dict." + name;
        switch (name)
        {
            case "get":
            {
                BoundArgs a = args.Bind(m, "key", "default");
                return d.TryGet(a.Required(0), out object? value) ? value : a.Get(1);
            }

            case "items": return NoArgs(args, m, new PyList(d.Items.Select(kv => (object?)PyList.Tuple(kv.Key, kv.Value)).ToList(), view: "dict_items"));
            case "keys": return NoArgs(args, m, new PyList([.. d.Keys], view: "dict_keys"));
            case "values": return NoArgs(args, m, new PyList([.. d.Values], view: "dict_values"));
            case "copy":
                var copy = new PyDict();
                foreach (KeyValuePair<object?, object?> kv in d.Items)
                    copy.Set(kv.Key, kv.Value);
                return NoArgs(args, m, copy);
            default:
                throw Unsupported(d, name);
        }
    }

    private static object? CallList(PyList l, string name, CallArgs args)
    {
        string m = PyRepr.TypeName(l) + "." + name;
        switch (name)
        {
            case "count":
            {
                object? x = args.Bind(m, "value").Required(0);
                return (long)l.Count(item => PyOps.AreEqual(item, x));
            }

            case "index":
            {
                object? x = args.Bind(m, "value").Required(0);
                for (int i = 0; i < l.Count; i++)
                {
                    if (PyOps.AreEqual(l[i], x))
                        return (long)i;
                }

                throw new TemplateRuntimeException($"{PyRepr.Repr(x)} is not in list");
            }

            case "copy":
                return NoArgs(args, m, new PyList([.. l], l.IsTuple));
            default:
                throw Unsupported(l, name);
        }
    }

    private static bool StartsOrEndsWith(string s, bool start, BoundArgs a, string m)
    {
        object? affix = a.Required(0);
        List<string> candidates = affix switch
        {
            string one => [one],
            PyList { IsTuple: true } tuple => tuple.Select(x => Str(x, m)).ToList(),
            _ => throw new TemplateRuntimeException($"{m} first arg must be str or a tuple of str, not {PyRepr.TypeName(affix)}"),
        };
        string window = Window(s, a.Get(1), a.Get(2), m, out _);
        return candidates.Any(c => start ? window.StartsWith(c, StringComparison.Ordinal) : window.EndsWith(c, StringComparison.Ordinal));
    }

    private static long Find(string s, string name, BoundArgs a, string m)
    {
        string sub = Str(a.Required(0), m);
        string window = Window(s, a.Get(1), a.Get(2), m, out int offset);
        int hit = name is "find" or "index"
            ? window.IndexOf(sub, StringComparison.Ordinal)
            : window.LastIndexOf(sub, StringComparison.Ordinal);
        if (hit < 0)
        {
            return name is "index" or "rindex"
                ? throw new TemplateRuntimeException("substring not found")
                : -1;
        }

        return offset + PyText.CodePointIndex(window, hit);
    }

    /// <summary><c>s[start:end]</c> for the optional start/end arguments of find/startswith; offset is start in code points.</summary>
    private static string Window(string s, object? start, object? end, string m, out int offset)
    {
        offset = 0;
        if (start is null && end is null)
            return s;
        List<string> chars = PyText.CodePoints(s);
        List<int> indices = PyAccess.SliceIndices(chars.Count, start is null ? null : Int(start, m), end is null ? null : Int(end, m), 1).ToList();
        offset = indices.Count > 0 ? indices[0] : 0;
        return string.Concat(indices.Select(i => chars[i]));
    }

    private static string JoinStrings(string separator, object? iterable)
    {
        List<object?> items = PyOps.Iterate(iterable);
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not string)
                throw new TemplateRuntimeException($"sequence item {i}: expected str instance, {PyRepr.TypeName(items[i])} found");
        }

        return string.Join(separator, items.Cast<string>());
    }

    private static string Justify(string s, string name, BoundArgs a, string m)
    {
        int width = PyOps.Width(Int(a.Required(0), m), m + " width");
        string fill = Str(a.Get(1, " "), m);
        if (fill.Length != 1)
            throw new TemplateRuntimeException("The fill character must be exactly one character long");
        int padding = Math.Max(0, width - PyText.Length(s));
        return name switch
        {
            "ljust" => s + new string(fill[0], padding),
            "rjust" => new string(fill[0], padding) + s,
            _ => PyText.Center(s, width, fill[0]),
        };
    }

    private static string ZFill(string s, int width)
    {
        int padding = width - PyText.Length(s);
        if (padding <= 0)
            return s;
        bool signed = s.Length > 0 && s[0] is '+' or '-';
        return signed ? s[0] + new string('0', padding) + s[1..] : new string('0', padding) + s;
    }

    /// <summary>
    /// <c>str.format</c> with <c>{}</c>, <c>{0}</c>, <c>{name}</c>, <c>!r</c>/<c>!s</c> and <c>{{</c>/<c>}}</c>;
    /// format specs (<c>{:.2f}</c>) are rejected rather than ignored.
    /// </summary>
    private static string Format(string template, CallArgs args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        bool usedAuto = false;
        bool usedManual = false;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    sb.Append('}');
                    i++;
                    continue;
                }

                throw new TemplateRuntimeException("Single '}' encountered in format string");
            }

            if (c != '{')
            {
                sb.Append(c);
                continue;
            }

            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }

            int close = template.IndexOf('}', i);
            if (close < 0)
                throw new TemplateRuntimeException("Single '{' encountered in format string");
            string field = template[(i + 1)..close];
            i = close;

            string conversion = "s";
            int bang = field.IndexOf('!');
            if (field.Contains(':'))
                throw new TemplateRuntimeException($"unsupported: format spec in '{{{field}}}' (str.format)");
            if (bang >= 0)
            {
                conversion = field[(bang + 1)..];
                field = field[..bang];
            }

            object? value;
            if (field.Length == 0)
            {
                usedAuto = true;
                value = auto < args.Positional.Count ? args.Positional[auto++] : throw new TemplateRuntimeException("Replacement index out of range for positional args tuple");
            }
            else if (int.TryParse(field, out int index))
            {
                usedManual = true;
                value = index < args.Positional.Count ? args.Positional[index] : throw new TemplateRuntimeException($"Replacement index {index} out of range for positional args tuple");
            }
            else
            {
                value = args.Named.FirstOrDefault(n => n.Key == field) is { Key: not null } kv ? kv.Value : throw new TemplateRuntimeException($"KeyError: '{field}'");
            }

            if (usedAuto && usedManual)
                throw new TemplateRuntimeException("cannot switch between automatic field numbering and manual field specification");
            sb.Append(conversion switch
            {
                "s" => PyRepr.Str(value),
                "r" => PyRepr.Repr(value),
                _ => throw new TemplateRuntimeException($"Unknown conversion specifier {conversion}"),
            });
        }

        return sb.ToString();
    }

    private static object? NoArgs(CallArgs args, string m, object? result)
    {
        args.Bind(m);
        return result;
    }

    private static string Str(object? value, string m) =>
        value as string ?? throw new TemplateRuntimeException($"{m}: expected a str argument, got '{PyRepr.TypeName(value)}'");

    private static string? OptionalString(object? value, string m) => value is null ? null : Str(value, m);

    private static long Int(object? value, string m) =>
        value is long or bool ? PyOps.ToLong(value) : throw new TemplateRuntimeException($"{m}: expected an int argument, got '{PyRepr.TypeName(value)}'");

    private static TemplateRuntimeException Unsupported(object target, string name) =>
        new($"unsupported method '{name}' of a {PyRepr.TypeName(target)} value");
}
