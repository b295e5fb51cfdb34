using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NotebookLens.Views.Html;

/// <summary>
/// JSON safe to place inside a script element: every <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c> and quote is a \u escape.
/// Written with <see cref="Utf8JsonWriter"/>, not the reflection serializer, which hosts may disable (a file-based
/// <c>dotnet run app.cs</c> does: it defaults to AOT-compatible settings).
/// </summary>
public static class Json
{
    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Default };

    /// <summary>The JSON <paramref name="write"/> writes.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options)) write(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>An array of strings (nulls as null).</summary>
    public static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string?> values)
    {
        writer.WriteStartArray(name);
        foreach (var v in values)
            if (v is null) writer.WriteNullValue();
            else writer.WriteStringValue(v);
        writer.WriteEndArray();
    }
}
