using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NotebookLens.Tests;

/// <summary>The README's C# examples compile against the current API (each block is a program of its own).</summary>
public sealed partial class ReadmeExamplesTests
{
    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    public static TheoryData<int> Blocks() => new(Enumerable.Range(0, CSharpBlock().Matches(Readme()).Count));

    internal static string Readme() => File.ReadAllText(Path.Combine(Fixtures.Root, "..", "..", "README.md"));

    [Fact]
    public void The_readme_has_examples() => Assert.True(CSharpBlock().Matches(Readme()).Count >= 7);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void The_example_compiles(int index)
    {
        var code = CSharpBlock().Matches(Readme())[index].Groups[1].Value;
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest));
        // The framework (as the host resolves it) and every assembly beside the tests: NotebookLens and TorchSharp.
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = framework.Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll")).Where(IsManaged)
            .GroupBy(Path.GetFileName).Select(g => MetadataReference.CreateFromFile(g.First()));
        var compilation = CSharpCompilation.Create("readme", [tree, CSharpSyntaxTree.ParseText(GlobalUsings)], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, $"README block {index}:\n{code}\n{string.Join("\n", errors)}");
    }

    // What an SDK project (ImplicitUsings) and a file-based app give every file.
    const string GlobalUsings = "global using System; global using System.IO; global using System.Linq; global using System.Collections.Generic; global using System.Threading.Tasks;";

    static bool IsManaged(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
