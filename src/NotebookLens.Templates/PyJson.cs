using System.Globalization;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>Python's <c>json.dumps</c>, byte for byte: separators, indentation, escaping and float formatting.</summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent, string itemSeparator, string keySeparator, bool sortKeys, bool ensureAscii)
    {
        var sb = new StringBuilder();
        new Writer(sb, indent, itemSeparator, keySeparator, sortKeys, ensureAscii).Write(value, 0);
        return sb.ToString();
    }

    private sealed class Writer(StringBuilder sb, string? indent, string itemSeparator, string keySeparator, bool sortKeys, bool ensureAscii)
    {
        private const int MaxDepth = 200;

        public void Write(object? value, int depth)
        {
            if (depth > MaxDepth)
                throw new TemplateRuntimeException("tojson: value nested too deeply");
            switch (value)
            {
                case null: sb.Append("null"); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d: sb.Append(Float(d)); break;
                case string s: WriteString(s); break;
                case PyList { View: null } list: WriteList(list, depth); break;
                case PyDict dict: WriteDict(dict, depth); break;
                default:
                    throw new TemplateRuntimeException($"Object of type {PyRepr.TypeName(value)} is not JSON serializable");
            }
        }

        private static string Float(double d) =>
            double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyRepr.Float(d);

        private void WriteList(PyList list, int depth)
        {
            if (list.Count == 0)
            {
                sb.Append("[]");
                return;
            }

            sb.Append('[');
            for (int i = 0; i < list.Count; i++)
            {
                NewItem(i, depth + 1);
                Write(list[i], depth + 1);
            }

            Close(']', depth);
        }

        private void WriteDict(PyDict dict, int depth)
        {
            if (dict.Count == 0)
            {
                sb.Append("{}");
                return;
            }

            IEnumerable<KeyValuePair<object?, object?>> items = dict.Items;
            if (sortKeys)
                items = items.OrderBy(kv => kv.Key, Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<")));

            sb.Append('{');
            int i = 0;
            foreach ((object? key, object? value) in items)
            {
                NewItem(i++, depth + 1);
                WriteString(KeyText(key));
                sb.Append(keySeparator);
                Write(value, depth + 1);
            }

            Close('}', depth);
        }

        private static string KeyText(object? key) => key switch
        {
            string s => s,
            double d => Float(d),
            true => "true",
            false => "false",
            null => "null",
            long l => l.ToString(CultureInfo.InvariantCulture),
            _ => throw new TemplateRuntimeException($"keys must be str, int, float, bool or None, not {PyRepr.TypeName(key)}"),
        };

        private void NewItem(int index, int depth)
        {
            if (index > 0)
                sb.Append(itemSeparator);
            if (indent is not null)
                sb.Append('\n').Insert(sb.Length, indent, depth);
        }

        private void Close(char bracket, int depth)
        {
            if (indent is not null)
                sb.Append('\n').Insert(sb.Length, indent, depth);
            sb.Append(bracket);
        }

        private void WriteString(string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7E))
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            sb.Append(c);
                        break;
                }
            }

            sb.Append('"');
        }
    }
}
