using System.Text.Json;
using NotebookLens.Templates;

namespace NotebookLens.Tests.Templates;

/// <summary>How caller values (.NET objects and JsonElement trees) become Python-like template values.</summary>
public class ValueConversionTests
{
    private static string Render(string template, string name, object? value) =>
        JinjaTemplate.Parse(template).Render(new Dictionary<string, object?> { [name] = value });

    [Fact]
    public void JsonNumbersKeepPythonsIntFloatDistinction()
    {
        using JsonDocument doc = JsonDocument.Parse("""{"i": 2, "f": 2.0, "e": 1e2, "neg": -3, "big": 0.1}""");
        Assert.Equal("2 2.0 100.0 -3 0.1 | 1 1.0",
            Render("{{ v.i }} {{ v.f }} {{ v.e }} {{ v.neg }} {{ v.big }} | {{ v.i // 2 }} {{ v.f / 2 }}", "v", doc.RootElement));
    }

    [Fact]
    public void JsonObjectsKeepTheirKeyOrderThroughToJson()
    {
        using JsonDocument doc = JsonDocument.Parse("""{"z": 1, "a": {"y": [true, null, "é"], "b": {}}}""");
        Assert.Equal("{\"z\": 1, \"a\": {\"y\": [true, null, \"é\"], \"b\": {}}}", Render("{{ v | tojson }}", "v", doc.RootElement));
    }

    [Fact]
    public void DotNetScalarsAndCollectionsConvert()
    {
        var value = new Dictionary<string, object?>
        {
            ["int"] = 3,
            ["long"] = 4L,
            ["double"] = 0.5,
            ["float"] = 1.5f,
            ["decimal"] = 2.25m,
            ["bool"] = false,
            ["null"] = null,
            ["array"] = new[] { "a", "b" },
            ["list"] = new List<object?> { 1, "x" },
            ["map"] = new Dictionary<string, int> { ["k"] = 1 },
        };

        Assert.Equal(
            "{'int': 3, 'long': 4, 'double': 0.5, 'float': 1.5, 'decimal': 2.25, 'bool': False, 'null': None, 'array': ['a', 'b'], 'list': [1, 'x'], 'map': {'k': 1}}",
            Render("{{ v }}", "v", value));
    }

    [Fact]
    public void RenderingDoesNotChangeTheCallersData()
    {
        var messages = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" } };
        Render("{% set ns = namespace(m=messages) %}{{ ns.m | length }}", "messages", messages);
        Assert.Single(messages);
    }
}
