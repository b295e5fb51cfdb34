using System.Text.Encodings.Web;
using System.Text.Json;

namespace NotebookLens.Cli;

/// <summary>JSON for scripts: one line per object, non-ASCII text kept as UTF-8 rather than \u escapes.</summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
