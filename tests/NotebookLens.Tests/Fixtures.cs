using System.Text.Json;
using NotebookLens.Loading;
using static TorchSharp.torch;

namespace NotebookLens.Tests;

/// <summary>Paths to the fixtures copied into the repository, and their golden outputs.</summary>
public static class Fixtures
{
    public static string Root { get; } = FindRoot();

    public static string Llama => Path.Combine(Root, "llama3-tiny");
    public static string Gemma => Path.Combine(Root, "gemma3-tiny");

    /// <summary>The shared folder beside the repository (CI and developers have it), or $NOTEBOOKLENS_SHARED.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("NOTEBOOKLENS_SHARED") is { Length: > 0 } dir
        ? dir
        : Path.GetFullPath(Path.Combine(Root, "..", "..", "..", "shared"));

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above the test assembly.");
    }

    /// <summary>A new empty folder, deleted with the rest of this test run's folders when the process exits.</summary>
    public static string TempDir()
    {
        var dir = Path.Combine(RunFolder, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A new folder holding one file, <paramref name="file"/> with <paramref name="text"/>, or nothing when the text is null.</summary>
    public static string TempDirWith(string file, string? text)
    {
        var dir = TempDir();
        if (text is not null) File.WriteAllText(Path.Combine(dir, file), text);
        return dir;
    }

    // Test runs write gigabytes of checkpoints and caches; left behind, a few runs fill a CI disk.
    static readonly string RunFolder = CreateRunFolder();

    static string CreateRunFolder()
    {
        var parent = Path.Combine(Path.GetTempPath(), "notebooklens-tests");
        DeleteLeftovers(parent);
        var root = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    // The test host is often killed once it has reported, before ProcessExit runs (600 MB a run were left
    // behind): each run also deletes the folders of runs whose process is gone.
    internal static void DeleteLeftovers(string parent)
    {
        if (!Directory.Exists(parent)) return;
        foreach (var dir in Directory.EnumerateDirectories(parent, "run-*"))
            if (int.TryParse(Path.GetFileName(dir).Split('-')[1], out var pid) && !IsRunning(pid))
                TryDelete(dir);
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>A fixture's golden.safetensors + golden.json.</summary>
public sealed class Golden : IDisposable
{
    readonly SafeTensorsFile _file;

    public Golden(string folder)
    {
        _file = SafeTensorsFile.Open(Path.Combine(folder, "golden.safetensors"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "golden.json")));
        Prompts = doc.RootElement.GetProperty("prompts").GetArrayLength();
    }

    public int Prompts { get; }

    public Tensor this[string key] => _file.Read(key);

    public bool Has(string key) => _file.Tensors.ContainsKey(key);

    public void Dispose() => _file.Dispose();
}
