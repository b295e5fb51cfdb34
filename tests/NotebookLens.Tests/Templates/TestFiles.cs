using System.Text.Json;

namespace NotebookLens.Tests.Templates;

/// <summary>Template test data: tests/fixtures/templates (templates, oracle corpus) and tests/fixtures/tokenizers (renders).</summary>
internal static class TestFiles
{
    public static string PathOf(string name)
    {
        var templates = Path.Combine(Fixtures.Root, "templates", name);
        return File.Exists(templates) ? templates : Path.Combine(Fixtures.Root, "tokenizers", name);
    }

    public static string ReadText(string name) => File.ReadAllText(PathOf(name));

    public static JsonElement ReadJson(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PathOf(name)));
        return doc.RootElement.Clone();
    }
}
