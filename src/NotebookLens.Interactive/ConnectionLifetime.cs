namespace NotebookLens.Interactive;

/// <summary>
/// Ends a kernel that <c>#!model connect</c> started when its connection is gone. <c>dotnet-interactive stdio</c> keeps
/// running (and spinning on a core) when its input closes, so a GPU box would keep every kernel whose ssh connection
/// dropped, with its models in GPU memory. When the connection ends, the process that started the kernel (sshd's
/// session, or the notebook's host for a local command) ends and the kernel is handed to another parent: then it
/// exits. Public because the connecting notebook calls it in the remote kernel.
/// </summary>
public static class ConnectionLifetime
{
    static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    static Timer? _watch;

    public static void EndWithParent()
    {
        if (!OperatingSystem.IsLinux() || _watch is not null) return;
        var parent = ParentId();
        _watch = new Timer(_ =>
        {
            if (ParentId() != parent) Environment.Exit(0);
        }, null, Every, Every);
    }

    /// <summary>The parent process id, field 4 of /proc/self/stat (after the command name in parentheses).</summary>
    static int ParentId()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
