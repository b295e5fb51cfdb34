namespace NotebookLens.Runtime;

/// <summary>NotebookLens's folder in the user's cache (<c>$XDG_CACHE_HOME/notebooklens</c>, else <c>~/.cache/notebooklens</c>).</summary>
static class UserCache
{
    public static string Folder(params string[] parts) => Path.Combine([Root(), "notebooklens", .. parts]);

    static string Root()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg)) return xdg;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? Path.GetTempPath() : Path.Combine(home, ".cache");
    }
}
