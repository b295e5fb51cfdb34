namespace NotebookLens.Views.Tests;

/// <summary>Where tests write what a person should look at (reports, screenshots): artifacts/ at the repository root.</summary>
public static class Paths
{
    public static string Root { get; } = FindRoot();

    public static string Artifacts => Path.Combine(Root, "artifacts");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NotebookLens.sln"))) return dir.FullName;
        throw new InvalidOperationException("NotebookLens.sln not found above " + AppContext.BaseDirectory);
    }
}
