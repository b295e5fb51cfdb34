using System.Reflection;
using System.Security.Cryptography;
using NotebookLens.Runtime;

namespace NotebookLens.Loading;

/// <summary>
/// A small model shipped inside the NotebookLens assembly (source: <c>src/NotebookLens/Models/&lt;Folder&gt;</c>, with its
/// model card), so every lecture step runs offline on a fresh machine. Loading one unpacks its files once into the
/// user's cache (<c>~/.cache/notebooklens/models/&lt;name&gt;-&lt;hash&gt;</c>), where they are memory-mapped like any model folder.
/// </summary>
public sealed class EmbeddedModel
{
    /// <summary><c>tiny</c>: a Llama 3.2-architecture model, the default of every command.</summary>
    public static EmbeddedModel Tiny { get; } = new("tiny", "Tiny");

    /// <summary><c>tiny-gemma</c>: its sibling in Gemma 3's text architecture, trained on the same curriculum.</summary>
    public static EmbeddedModel TinyGemma { get; } = new("tiny-gemma", "TinyGemma");

    /// <summary>Every model the assembly carries, each loaded by its name.</summary>
    public static IReadOnlyList<EmbeddedModel> All { get; } = [Tiny, TinyGemma];

    /// <summary>The embedded model called <paramref name="name"/>, or null.</summary>
    public static EmbeddedModel? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    readonly string _resourcePrefix;
    readonly Lazy<string> _unpacked;

    EmbeddedModel(string name, string sourceFolder)
    {
        Name = name;
        SourceFolder = sourceFolder;
        _resourcePrefix = $"NotebookLens.Models.{sourceFolder}.";
        Files = [.. typeof(EmbeddedModel).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(_resourcePrefix, StringComparison.Ordinal)).Select(r => r[_resourcePrefix.Length..]).Order(StringComparer.Ordinal)];
        _unpacked = new(() => UnpackInto(UserCache.Folder("models")), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The name that loads it (<c>#!model load tiny</c>, <c>--model tiny</c>).</summary>
    public string Name { get; }

    /// <summary>Its folder under <c>src/NotebookLens/Models</c>.</summary>
    internal string SourceFolder { get; }

    /// <summary>The files of the model, as a Hugging Face folder holds them.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The folder holding the unpacked model (unpacked on first use; later calls and processes reuse it).</summary>
    public string Folder() => _unpacked.Value;

    /// <summary>Unpacks the model into a content-named folder under <paramref name="modelsFolder"/>, unless it is there complete.</summary>
    internal string UnpackInto(string modelsFolder)
    {
        if (!Files.Contains("model.safetensors") || !Files.Contains("config.json"))
            throw new InvalidOperationException($"The NotebookLens assembly does not contain the embedded '{Name}' model (a build without its folder under src/NotebookLens/Models?).");
        var assembly = typeof(EmbeddedModel).Assembly;
        // Keyed by the content, so a new version of the model never mixes with files of an old one.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file));
            using var stream = Open(assembly, file);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
        }
        var folder = Path.Combine(modelsFolder, $"{Name}-{Convert.ToHexStringLower(hash.GetHashAndReset())[..16]}");
        if (IsComplete(assembly, folder)) return folder;

        // Unpacked beside the target and moved into place, so a concurrent or interrupted unpack never leaves half a model.
        var parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(folder)}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var file in Files)
            {
                using var source = Open(assembly, file);
                using var target = File.Create(Path.Combine(temp, file));
                source.CopyTo(target);
            }
            // A damaged copy (a file missing or of the wrong size) is replaced; a complete one
            // that another process has just moved into place is kept.
            if (Directory.Exists(folder) && !IsComplete(assembly, folder)) Directory.Delete(folder, recursive: true);
            if (!Directory.Exists(folder)) Directory.Move(temp, folder);
        }
        catch (IOException) when (IsComplete(assembly, folder))
        {
            // Another process unpacked the same model first.
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return IsComplete(assembly, folder) ? folder : throw new IOException($"Could not unpack the embedded '{Name}' model into {folder}.");
    }

    Stream Open(Assembly assembly, string file) =>
        assembly.GetManifestResourceStream(_resourcePrefix + file) ?? throw new InvalidOperationException($"Embedded model file {file} is missing.");

    bool IsComplete(Assembly assembly, string folder) =>
        Directory.Exists(folder) && Files.All(f =>
        {
            var path = Path.Combine(folder, f);
            using var stream = Open(assembly, f);
            return File.Exists(path) && new FileInfo(path).Length == stream.Length;
        });
}
