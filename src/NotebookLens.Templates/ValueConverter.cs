using System.Collections;
using System.Text.Json;

namespace NotebookLens.Templates;

/// <summary>
/// Turns the caller's .NET values (and JsonElement trees, so a messages JSON file can be passed
/// straight in) into the Python-like values templates operate on. Everything is copied, so a
/// render never sees or changes the caller's collections.
/// </summary>
internal static class ValueConverter
{
    private const int MaxDepth = 200;

    public static object? FromClr(object? value, string path, int depth = 0)
    {
        if (depth > MaxDepth)
            throw new TemplateRuntimeException($"variable '{path}' is nested more than {MaxDepth} levels deep");

        switch (value)
        {
            case null: return null;
            case string or bool or long or double: return value;
            case int or short or sbyte or byte or ushort or uint: return Convert.ToInt64(value);
            case ulong u when u <= long.MaxValue: return (long)u;
            case float or decimal: return Convert.ToDouble(value);
            case char ch: return ch.ToString();
            case JsonElement json: return FromJson(json, path, depth);
            case IReadOnlyDictionary<string, object?> map: return ToDict(map.Select(kv => new KeyValuePair<object?, object?>(kv.Key, kv.Value)), path, depth);
            case IDictionary<string, object?> map: return ToDict(map.Select(kv => new KeyValuePair<object?, object?>(kv.Key, kv.Value)), path, depth);
            case IDictionary map: return ToDict(Entries(map), path, depth);
            case IEnumerable items: return new PyList(items.Cast<object?>().Select((item, i) => FromClr(item, $"{path}[{i}]", depth + 1)).ToList());
            default:
                throw new TemplateRuntimeException($"variable '{path}' has unsupported type {value.GetType().FullName}");
        }
    }

    // Enumerating a generic Dictionary yields KeyValuePairs; its IDictionaryEnumerator gives DictionaryEntry for any IDictionary.
    private static IEnumerable<KeyValuePair<object?, object?>> Entries(IDictionary map)
    {
        IDictionaryEnumerator e = map.GetEnumerator();
        while (e.MoveNext())
            yield return new KeyValuePair<object?, object?>(e.Key, e.Value);
    }

    private static PyDict ToDict(IEnumerable<KeyValuePair<object?, object?>> entries, string path, int depth)
    {
        var dict = new PyDict();
        foreach ((object? key, object? value) in entries)
        {
            object? k = FromClr(key, path + " key", depth + 1);
            dict.Set(k, FromClr(value, $"{path}[{PyRepr.Repr(k)}]", depth + 1));
        }

        return dict;
    }

    private static object? FromJson(JsonElement json, string path, int depth)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new PyDict();
                foreach (JsonProperty property in json.EnumerateObject())
                    dict.Set(property.Name, FromClr(property.Value, $"{path}['{property.Name}']", depth + 1));
                return dict;
            case JsonValueKind.Array:
                return new PyList(json.EnumerateArray().Select((item, i) => FromClr(item, $"{path}[{i}]", depth + 1)).ToList());
            case JsonValueKind.String:
                return json.GetString();
            case JsonValueKind.Number:
                // Python's json module gives int for "2" and float for "2.0" or "2e0".
                return json.TryGetInt64(out long l) ? (object)l : json.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
