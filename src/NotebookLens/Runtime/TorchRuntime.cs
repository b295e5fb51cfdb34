using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace NotebookLens.Runtime;

/// <summary>
/// Makes TorchSharp's native library loadable before anything touches <see cref="torch"/>.
/// Every NotebookLens entry point calls <see cref="EnsureLoaded"/>; code that uses TorchSharp
/// directly before any NotebookLens call should call it first.
/// </summary>
public static class TorchRuntime
{
    const string NativeName = "libLibTorchSharp.so";
    static readonly Lock Gate = new();
    static bool _done;

    /// <summary>How the native library was prepared, for diagnostics (<c>info</c> prints it).</summary>
    public static string Status { get; private set; } = "not initialised";

    /// <summary>The handle of the native library TorchSharp calls (the rewritten copy when one was needed), or zero.</summary>
    static IntPtr _native;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_done) return;
            if (OperatingSystem.IsLinux())
            {
                var threads = OpenMpThreads.SleepWhenIdle(); // before libtorch loads libgomp, which reads it once
                var caches = OneDnnCaches.Cap(); // before libtorch's first product, which reads them once
                PrepareLinux();
                Status += "; " + NativeHeap.HandBackLargeBlocks() + "; " + threads + "; " + caches;
            }
            else Status = "no preparation needed on this operating system";
            _done = true;
        }
        // Fails here, with TorchSharp's own trace, rather than deep inside a model load.
        torch.InitializeDeviceType(DeviceType.CPU);
    }

    /// <summary>
    /// A function TorchSharp's native library exports (e.g. <c>THSTensor_data</c>, which TorchSharp does not make
    /// public), or zero when it cannot be found. Loading the library TorchSharp already loaded returns its handle.
    /// </summary>
    internal static IntPtr NativeExport(string name)
    {
        EnsureLoaded();
        if (_native == IntPtr.Zero)
        {
            var found = FindNativeLibrary();
            if (found is not null && NativeLibrary.TryLoad(found, out var handle)) _native = handle;
            else if (NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out handle)) _native = handle;
        }
        return _native != IntPtr.Zero && NativeLibrary.TryGetExport(_native, name, out var address) ? address : IntPtr.Zero;
    }

    static void PrepareLinux()
    {
        var original = FindNativeLibrary();
        if (original is null)
        {
            Status = $"{NativeName} not found next to TorchSharp; TorchSharp loads it itself";
            return;
        }
        var image = File.ReadAllBytes(original);
        var library = ElfImage.Read(image);
        var systemLib = SystemLibStdCxx();
        if (systemLib is null)
        {
            Status = $"no {GlibcxxShim.LibStdCxx} found in this process; TorchSharp loads {original} itself";
            return;
        }
        var plan = GlibcxxShim.Plan(library, ElfImage.Read(systemLib).VersionDefinitions, out var detail);
        switch (plan)
        {
            case GlibcxxPlan.LoadAsIs:
                Status = $"{original}: {detail}";
                return;
            case GlibcxxPlan.Unsupported:
                throw new PlatformNotSupportedException(
                    $"TorchSharp's native library {original} cannot load here: {detail} ({systemLib}). " +
                    "Install a newer libstdc++ (GCC 13 or later), e.g. from your distribution's backports.");
        }
        var copy = WriteRewrittenCopy(original, image);
        PreloadLibTorch(original);
        _native = NativeLibrary.Load(copy);
        Status = $"{original}: {detail} ({copy})";
    }

    /// <summary>
    /// The rewritten copy lives in the user's cache, keyed by the original's hash, so it is made once
    /// per TorchSharp version and never touches the NuGet package folder.
    /// </summary>
    static string WriteRewrittenCopy(string original, byte[] image)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(image))[..16];
        var dir = UserCache.Folder("native", key);
        var target = Path.Combine(dir, NativeName);
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(dir);
        // Written under a unique name and moved into place so concurrent processes never see half a file.
        var temp = Path.Combine(dir, $"{NativeName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temp, GlibcxxShim.Rewrite(image));
        File.Move(temp, target, overwrite: true);
        return target;
    }

    /// <summary>
    /// The copy sits outside libtorch's folder, so its <c>$ORIGIN</c> run path finds nothing: its
    /// dependencies (libtorch, libtorch_cpu, libc10) must already be loaded, which glibc then matches by soname.
    /// TorchSharp's own libtorch is loaded by its full path: by bare name the system's search comes first, and a
    /// machine with another libtorch installed (Debian's python3-torch brings 1.13 to /usr/lib) would load that one,
    /// whose libc10 lacks what TorchSharp's library needs.
    /// </summary>
    static void PreloadLibTorch(string original)
    {
        foreach (var path in LibTorchCandidates(original, AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string))
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out _)) return;
        if (NativeLibrary.TryLoad("torch", typeof(torch).Assembly, null, out _)) return;
        throw new DllNotFoundException(
            "libtorch.so could not be loaded. Reference the TorchSharp-cpu package (it brings libtorch-cpu-linux-x64).");
    }

    /// <summary>
    /// Where TorchSharp's libtorch may be, in order: beside its native library (an app's output folder), in the
    /// runtime's native search folders, and in the NuGet cache's libtorch package next to TorchSharp's (a notebook
    /// host loads packages from there: <c>&lt;packages&gt;/torchsharp/&lt;v&gt;/runtimes/linux-x64/native</c> and
    /// <c>&lt;packages&gt;/libtorch-cpu-linux-x64/&lt;v&gt;/runtimes/linux-x64/native</c>), newest version first.
    /// </summary>
    internal static IEnumerable<string> LibTorchCandidates(string original, string? searchDirectories)
    {
        const string name = "libtorch.so";
        var native = Path.GetDirectoryName(original)!;
        yield return Path.Combine(native, name);
        foreach (var dir in (searchDirectories ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            yield return Path.Combine(dir, name);
        // native = <packages>/torchsharp/<version>/runtimes/linux-x64/native
        var packages = Path.GetFullPath(Path.Combine(native, "..", "..", "..", "..", ".."));
        if (!Directory.Exists(packages)) yield break;
        var versions = Directory.EnumerateDirectories(packages, "libtorch-*-linux-x64")
            .SelectMany(Directory.EnumerateDirectories)
            .OrderByDescending(d => Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(0, 0));
        foreach (var version in versions)
            yield return Path.Combine(version, "runtimes", "linux-x64", "native", name);
    }

    /// <summary>Where the runtime (or TorchSharp's own fallback) would look for the native library.</summary>
    internal static string? FindNativeLibrary()
    {
        var managed = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "";
        var dirs = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            dirs.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        dirs.Add(managed);
        dirs.Add(Path.Combine(managed, "runtimes", "linux-x64", "native"));
        dirs.Add(Path.Combine(managed, "cpu"));
        // TorchSharp.dll inside the NuGet package folder: <package>/<version>/lib/<tfm>/TorchSharp.dll.
        dirs.Add(Path.Combine(managed, "..", "..", "runtimes", "linux-x64", "native"));
        return dirs.Select(d => Path.Combine(d, NativeName)).FirstOrDefault(File.Exists) is { } found
            ? Path.GetFullPath(found)
            : null;
    }

    /// <summary>The libstdc++ this process uses (the .NET host links it), read from the process's own mappings.</summary>
    internal static string? SystemLibStdCxx()
    {
        if (!File.Exists("/proc/self/maps")) return null;
        if (MappedLibrary("libstdc++.so") is { } path) return path;
        return NativeLibrary.TryLoad(GlibcxxShim.LibStdCxx, out _) ? MappedLibrary("libstdc++.so") : null;
    }

    /// <summary>
    /// Whether this process runs libtorch's CUDA build: its <c>libtorch_cuda.so</c> is mapped once TorchSharp was
    /// asked for CUDA (the CPU build has no such library). False where the process's mappings cannot be read.
    /// </summary>
    internal static bool HasCudaBuild()
    {
        EnsureLoaded();
        return File.Exists("/proc/self/maps") && MappedLibrary("libtorch_cuda.so") is not null;
    }

    /// <summary>The path of the first library mapped into this process whose file name starts with <paramref name="prefix"/>.</summary>
    static string? MappedLibrary(string prefix) => File.ReadLines("/proc/self/maps")
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Where(parts => parts.Length >= 6 && Path.GetFileName(parts[5]).StartsWith(prefix, StringComparison.Ordinal))
        .Select(parts => parts[5])
        .FirstOrDefault();
}
