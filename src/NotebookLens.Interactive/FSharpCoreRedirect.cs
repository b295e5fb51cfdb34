using System.Reflection;
using System.Runtime.Loader;

namespace NotebookLens.Interactive;

/// <summary>
/// Plotly.NET 6 is built against FSharp.Core 10.1, while the notebook hosts (dotnet-interactive 1.0.712001,
/// dotnet-repl 0.3.259) ship and load FSharp.Core 10.0: the first chart call fails with
/// <c>FileNotFoundException: FSharp.Core, Version=10.1.0.0</c>. The default context calls <c>Resolving</c> only
/// when it cannot satisfy a reference itself, so handing back the host's FSharp.Core there is enough; it must be
/// installed before any Plotly type is touched.
/// </summary>
static class FSharpCoreRedirect
{
    const string Name = "FSharp.Core";
    static int _installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += (context, requested) =>
            requested.Name == Name ? HostCopy(context) : null;
    }

    /// <summary>The FSharp.Core the host already loaded, else the one beside the host's own assemblies.</summary>
    static Assembly? HostCopy(AssemblyLoadContext context)
    {
        var loaded = context.Assemblies.FirstOrDefault(a => a.GetName().Name == Name);
        if (loaded is not null) return loaded;
        var beside = Path.Combine(AppContext.BaseDirectory, Name + ".dll");
        return File.Exists(beside) ? context.LoadFromAssemblyPath(beside) : null;
    }
}
