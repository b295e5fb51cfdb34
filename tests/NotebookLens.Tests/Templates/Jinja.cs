using NotebookLens.Templates;

namespace NotebookLens.Tests.Templates;

/// <summary>Renders a template against a small fixed set of variables shared by the focused tests.</summary>
internal static class Jinja
{
    public static readonly DateTime Now = new(2024, 7, 26, 9, 5, 3);

    public static Dictionary<string, object?> Variables() => new()
    {
        ["xs"] = new List<object?> { 3, 1, 2 },
        ["d"] = new Dictionary<string, object?> { ["b"] = 1, ["a"] = 2 },
        ["s"] = "  Hello World  ",
        ["n"] = 7,
        ["f"] = 2.5,
        ["t"] = true,
        ["nothing_here"] = null,
        ["messages"] = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "system", ["content"] = "Be brief." },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hi" },
        },
    };

    public static string Render(string source) => JinjaTemplate.Parse(source).Render(Variables(), Now);
}
