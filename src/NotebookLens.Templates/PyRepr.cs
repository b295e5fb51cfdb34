using System.Globalization;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>Python's <c>str()</c> and <c>repr()</c>, which decide what <c>{{ value }}</c> prints.</summary>
internal static class PyRepr
{
    /// <summary>What <c>{{ value }}</c> and <c>~</c> produce.</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value) => Repr(value, []);

    // "active" holds the containers being printed, so a namespace holding itself prints "{...}" as in
    // Python instead of recursing forever.
    private static string Repr(object? value, HashSet<object> active) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        string s => QuoteString(s),
        PyList l when !active.Add(l) => l.IsTuple ? "(...)" : "[...]",
        PyList { View: { } view } l => Leave(l, active, view + "([" + Items(l, active) + "])"),
        PyList { IsTuple: true, Count: 1 } t => Leave(t, active, "(" + Repr(t[0], active) + ",)"),
        PyList { IsTuple: true } t => Leave(t, active, "(" + Items(t, active) + ")"),
        PyList l => Leave(l, active, "[" + Items(l, active) + "]"),
        PyDict d when !active.Add(d) => "{...}",
        PyDict d => Leave(d, active, "{" + string.Join(", ", d.Items.Select(kv => Repr(kv.Key, active) + ": " + Repr(kv.Value, active))) + "}"),
        Undefined => "Undefined",
        Namespace ns => "<Namespace " + Repr(ns.Attributes, active) + ">",
        Macro m => $"<Macro '{m.Name}'>",
        LoopContext loop => $"<LoopContext {loop.Index0 + 1}/{loop.Length}>",
        // Python prints these with a memory address; a prompt containing one is always a template bug.
        PyIterator it => throw new TemplateRuntimeException(
            $"cannot print the result of '{it.Origin}': in jinja2 it is a generator; convert it with '| list' first"),
        _ => throw new TemplateRuntimeException($"cannot print a value of type '{TypeName(value)}'"),
    };

    private static string Items(PyList list, HashSet<object> active) => string.Join(", ", list.Select(item => Repr(item, active)));

    private static string Leave(object container, HashSet<object> active, string text)
    {
        active.Remove(container);
        return text;
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, ".0" on integral values, exponent outside 1e-4..1e16.</summary>
    public static string Float(double d)
    {
        if (double.IsNaN(d))
            return "nan";
        if (double.IsInfinity(d))
            return d > 0 ? "inf" : "-inf";
        if (d == 0)
            return double.IsNegative(d) ? "-0.0" : "0.0";

        // "R" yields the shortest round-trip digits; re-lay them out the way Python does.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        int exponent = e >= 0 ? int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        string mantissa = e >= 0 ? r[..e] : r;
        int dot = mantissa.IndexOf('.');
        string digits = mantissa.Replace(".", "");
        int pointPos = dot >= 0 ? dot : mantissa.Length;
        int leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        int decimalPoint = pointPos - leading + exponent; // value = 0.<digits> * 10^decimalPoint

        var sb = new StringBuilder();
        if (d < 0)
            sb.Append('-');
        if (decimalPoint <= -4 || decimalPoint > 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            int exp = decimalPoint - 1;
            sb.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decimalPoint <= 0)
        {
            sb.Append("0.").Append('0', -decimalPoint).Append(digits);
        }
        else if (decimalPoint >= digits.Length)
        {
            sb.Append(digits).Append('0', decimalPoint - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, decimalPoint).Append('.').Append(digits, decimalPoint, digits.Length - decimalPoint);
        }

        return sb.ToString();
    }

    /// <summary>Python's <c>repr(str)</c>: single quotes unless only a single quote occurs, escapes for unprintables.</summary>
    public static string QuoteString(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        for (int i = 0; i < s.Length;)
        {
            int start = i;
            int cp = PyText.NextCodePoint(s, ref i);
            switch (cp)
            {
                case '\\': sb.Append("\\\\"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }

            if (cp == quote)
                sb.Append('\\').Append(quote);
            else if (IsPrintable(cp))
                sb.Append(s, start, i - start);
            else if (cp <= 0xFF)
                sb.Append("\\x").Append(cp.ToString("x2", CultureInfo.InvariantCulture));
            else if (cp <= 0xFFFF)
                sb.Append("\\u").Append(cp.ToString("x4", CultureInfo.InvariantCulture));
            else
                sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
        }

        return sb.Append(quote).ToString();
    }

    /// <summary>Python's <c>str.isprintable</c> for one code point: not a control, format, separator or unassigned character (space excepted).</summary>
    private static bool IsPrintable(int cp)
    {
        if (cp == ' ')
            return true;
        if (cp < 0x7F)
            return cp > 0x20;
        if (cp is >= 0xD800 and <= 0xDFFF)
            return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    /// <summary>Python's <c>type(value).__name__</c>, used in error messages.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyList { View: { } view } => view,
        PyList { IsTuple: true } => "tuple",
        PyList => "list",
        PyDict => "dict",
        PyIterator => "generator",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        Macro => "Macro",
        BoundMethod => "builtin_function_or_method",
        ICallable => "function",
        _ => value.GetType().Name,
    };

    /// <summary>jinja2's <c>object_type_repr</c>: "None", or "dict object", "list object", ...</summary>
    public static string ObjectTypeName(object? value) => value is null ? "None" : TypeName(value) + " object";
}
