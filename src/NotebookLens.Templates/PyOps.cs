namespace NotebookLens.Templates;

/// <summary>Python semantics of truth, equality, ordering, arithmetic and membership on template values.</summary>
internal static class PyOps
{
    /// <summary>Longest string or list that <c>*</c>, padding or indenting may build; stops a template from exhausting memory.</summary>
    public const long MaxRepeatLength = 50_000_000;

    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        PyList l => l.Count > 0,
        PyDict d => d.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static bool AreEqual(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        return (a, b) switch
        {
            (null, null) => true,
            (null, _) or (_, null) => false,
            (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
            (Undefined, Undefined) => true,
            (PyList x, PyList y) => x.IsTuple == y.IsTuple && x.View == y.View && x.Count == y.Count && x.Zip(y).All(p => AreEqual(p.First, p.Second)),
            (PyDict x, PyDict y) => x.Count == y.Count && x.Items.All(kv => y.TryGet(kv.Key, out object? v) && AreEqual(kv.Value, v)),
            _ => ReferenceEquals(a, b),
        };
    }

    /// <summary>Python ordering (<c>&lt;</c> and friends): numbers, strings by code point, lists lexicographically.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a).CompareTo(ToDouble(b)) : ToLong(a).CompareTo(ToLong(b));
        switch (a, b)
        {
            case (string x, string y):
                return PyText.CompareCodePoints(x, y);
            case (PyList x, PyList y) when x.IsTuple == y.IsTuple && x.View is null && y.View is null:
                for (int i = 0; i < Math.Min(x.Count, y.Count); i++)
                {
                    if (!AreEqual(x[i], y[i]))
                        return Compare(x[i], y[i], op);
                }

                return x.Count.CompareTo(y.Count);
            case (Undefined u, _):
                throw new TemplateRuntimeException(u.Message);
            case (_, Undefined u):
                throw new TemplateRuntimeException(u.Message);
            default:
                throw new TemplateRuntimeException(
                    $"'{op}' not supported between instances of '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");
        }
    }

    public static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException("not an integer"),
    };

    public static double ToDouble(object? v) => v switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new InvalidOperationException("not a number"),
    };

    public static object? Add(object? a, object? b)
    {
        ThrowIfUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) + ToDouble(b) : Checked(() => checked(ToLong(a) + ToLong(b)));
        return (a, b) switch
        {
            (string x, string y) => x + y,
            (PyList x, PyList y) when x.IsTuple == y.IsTuple && x.View is null && y.View is null => new PyList([.. x, .. y], x.IsTuple),
            (string, _) => throw new TemplateRuntimeException($"can only concatenate str (not \"{PyRepr.TypeName(b)}\") to str"),
            (PyList { IsTuple: false }, _) => throw new TemplateRuntimeException($"can only concatenate list (not \"{PyRepr.TypeName(b)}\") to list"),
            _ => throw Unsupported("+", a, b),
        };
    }

    public static object? Subtract(object? a, object? b)
    {
        RequireNumbers("-", a, b);
        return a is double || b is double ? ToDouble(a) - ToDouble(b) : Checked(() => checked(ToLong(a) - ToLong(b)));
    }

    public static object? Multiply(object? a, object? b)
    {
        ThrowIfUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) * ToDouble(b) : Checked(() => checked(ToLong(a) * ToLong(b)));
        return (a, b) switch
        {
            (string s, long or bool) => Repeat(s, ToLong(b)),
            (long or bool, string s) => Repeat(s, ToLong(a)),
            (PyList { View: null } l, long or bool) => RepeatList(l, ToLong(b)),
            (long or bool, PyList { View: null } l) => RepeatList(l, ToLong(a)),
            _ => throw Unsupported("*", a, b),
        };
    }

    public static object? Divide(object? a, object? b)
    {
        RequireNumbers("/", a, b);
        double divisor = ToDouble(b);
        if (divisor == 0)
            throw new TemplateRuntimeException("division by zero");
        return ToDouble(a) / divisor;
    }

    public static object? FloorDivide(object? a, object? b)
    {
        RequireNumbers("//", a, b);
        if (a is double || b is double)
        {
            double divisor = ToDouble(b);
            if (divisor == 0)
                throw new TemplateRuntimeException("float floor division by zero");
            return Math.Floor(ToDouble(a) / divisor);
        }

        long x = ToLong(a);
        long y = ToLong(b);
        if (y == 0)
            throw new TemplateRuntimeException("integer division or modulo by zero");
        long q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    public static object? Modulo(object? a, object? b)
    {
        if (a is string)
            throw new TemplateRuntimeException("the '%' string formatting operator is not supported; use '~' or the format method");
        RequireNumbers("%", a, b);
        if (a is double || b is double)
        {
            double y = ToDouble(b);
            if (y == 0)
                throw new TemplateRuntimeException("float modulo");
            double r = ToDouble(a) % y;
            return r != 0 && (r < 0) != (y < 0) ? r + y : r;
        }

        long x = ToLong(a);
        long m = ToLong(b);
        if (m == 0)
            throw new TemplateRuntimeException("integer division or modulo by zero");
        long rem = x % m;
        return rem != 0 && (rem < 0) != (m < 0) ? rem + m : rem;
    }

    public static object? Power(object? a, object? b)
    {
        RequireNumbers("**", a, b);
        if (a is double || b is double || ToLong(b) < 0)
        {
            if (ToDouble(a) == 0 && ToDouble(b) < 0)
                throw new TemplateRuntimeException("0.0 cannot be raised to a negative power");
            return Math.Pow(ToDouble(a), ToDouble(b));
        }

        long baseValue = ToLong(a);
        long exponent = ToLong(b);
        return Checked(() =>
        {
            long result = 1;
            while (exponent > 0)
            {
                if ((exponent & 1) == 1)
                    result = checked(result * baseValue);
                exponent >>= 1;
                if (exponent > 0)
                    baseValue = checked(baseValue * baseValue);
            }

            return result;
        });
    }

    public static object? Negate(object? a) => a switch
    {
        double d => -d,
        long or bool => Checked(() => checked(-ToLong(a))),
        Undefined u => throw new TemplateRuntimeException(u.Message),
        _ => throw new TemplateRuntimeException($"bad operand type for unary -: '{PyRepr.TypeName(a)}'"),
    };

    public static object? Plus(object? a) => a switch
    {
        double or long => a,
        bool => ToLong(a),
        Undefined u => throw new TemplateRuntimeException(u.Message),
        _ => throw new TemplateRuntimeException($"bad operand type for unary +: '{PyRepr.TypeName(a)}'"),
    };

    /// <summary>Python's <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub
            ? s.Contains(sub, StringComparison.Ordinal)
            : throw new TemplateRuntimeException($"'in <string>' requires string as left operand, not {PyRepr.TypeName(item)}"),
        PyDict d => d.ContainsKey(item),
        PyList l => l.Any(x => AreEqual(x, item)),
        PyIterator it => it.Drain().Any(x => AreEqual(x, item)),
        Undefined => false,
        Namespace ns => ns.Attributes.ContainsKey(item),
        _ => throw new TemplateRuntimeException($"argument of type '{PyRepr.TypeName(container)}' is not iterable"),
    };

    /// <summary>Python's <c>iter()</c>: dicts give their keys, strings their characters, undefined nothing.</summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        PyList l => [.. l],
        PyDict d => [.. d.Keys],
        string s => [.. PyText.CodePoints(s)],
        PyIterator it => it.Drain(),
        Undefined => [],
        _ => throw new TemplateRuntimeException($"'{PyRepr.TypeName(value)}' object is not iterable"),
    };

    /// <summary>Python's <c>len()</c>; jinja2's Undefined has length 0.</summary>
    public static long Length(object? value) => value switch
    {
        string s => PyText.Length(s),
        PyList l => l.Count,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw new TemplateRuntimeException($"object of type '{PyRepr.TypeName(value)}' has no len()"),
    };

    private static string Repeat(string s, long times)
    {
        if (times <= 0 || s.Length == 0)
            return "";
        if (s.Length * times > MaxRepeatLength)
            throw new TemplateRuntimeException($"string repetition would produce more than {MaxRepeatLength} characters");
        return new System.Text.StringBuilder().Insert(0, s, (int)times).ToString();
    }

    private static PyList RepeatList(PyList list, long times)
    {
        if (times <= 0)
            return new PyList([], list.IsTuple);
        if (list.Count * times > MaxRepeatLength)
            throw new TemplateRuntimeException($"list repetition would produce more than {MaxRepeatLength} items");
        var items = new List<object?>();
        for (long i = 0; i < times; i++)
            items.AddRange(list);
        return new PyList(items, list.IsTuple);
    }

    /// <summary>Validates a width or padding requested by a template (center, ljust, indent, ...).</summary>
    public static int Width(long width, string what) => width <= MaxRepeatLength
        ? (int)Math.Max(width, int.MinValue)
        : throw new TemplateRuntimeException($"{what} {width} is larger than the {MaxRepeatLength} allowed");

    private static void ThrowIfUndefined(object? a, object? b)
    {
        if (a is Undefined ua)
            throw new TemplateRuntimeException(ua.Message);
        if (b is Undefined ub)
            throw new TemplateRuntimeException(ub.Message);
    }

    private static void RequireNumbers(string op, object? a, object? b)
    {
        ThrowIfUndefined(a, b);
        if (!IsNumber(a) || !IsNumber(b))
            throw Unsupported(op, a, b);
    }

    private static TemplateRuntimeException Unsupported(string op, object? a, object? b) =>
        new($"unsupported operand type(s) for {op}: '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");

    private static object Checked(Func<long> compute)
    {
        try
        {
            return compute();
        }
        catch (OverflowException)
        {
            throw new TemplateRuntimeException("integer result does not fit in 64 bits");
        }
    }
}
