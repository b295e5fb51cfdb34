using System.Text.Json;
using AngleSharp.Dom;

namespace NotebookLens.Views.Tests;

/// <summary>The data and layout Plotly.NET wrote into a chart's script (JSON object literals on their own lines).</summary>
public sealed record ChartJson(JsonElement Data, JsonElement Layout)
{
    public static IReadOnlyList<ChartJson> All(IDocument document) => Dom.Templates(document).Select(fragment =>
    {
        var script = fragment.QuerySelector("script")!.TextContent;
        return new ChartJson(Variable(script, "data"), Variable(script, "layout"));
    }).ToList();

    static JsonElement Variable(string script, string name)
    {
        var prefix = $"var {name} = ";
        var line = script.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return JsonDocument.Parse(line[prefix.Length..].TrimEnd(';')).RootElement;
    }

    public static double?[][] Matrix(JsonElement z) =>
        z.EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray()).ToArray();
}
