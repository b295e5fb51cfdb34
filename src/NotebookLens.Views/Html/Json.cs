using System.Text.Encodings.Web;
using System.Text.Json;

namespace NotebookLens.Views.Html;

/// <summary>JSON safe to place inside an inline script: every <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c> and quote is a \u escape.</summary>
public static class Json
{
    static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.Default,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
