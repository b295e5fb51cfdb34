namespace NotebookLens.Testing;

/// <summary>The repository the tests run in (found from the test assembly upwards) and where tests write what a person
/// should look at (reports, screenshots, executed notebooks): artifacts/ at its root.</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    public static string Artifacts => Path.Combine(Root, "artifacts");

    public static string Fixture(string name) => Path.Combine(Root, "tests", "fixtures", name);

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NotebookLens.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("NotebookLens.sln not found above " + AppContext.BaseDirectory);
    }
}
