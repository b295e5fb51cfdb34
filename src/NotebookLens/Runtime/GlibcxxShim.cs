using System.Buffers.Binary;
using System.Text;

namespace NotebookLens.Runtime;

/// <summary>What to do about a native library's libstdc++ version needs on this system.</summary>
internal enum GlibcxxPlan
{
    /// <summary>The system's libstdc++ provides every version the library needs: load it as it is.</summary>
    LoadAsIs,
    /// <summary>Only a version with nothing but never-called symbols is missing: load a rewritten copy.</summary>
    LoadRewrittenCopy,
    /// <summary>Versions with real symbols are missing: no rewrite can help.</summary>
    Unsupported,
}

/// <summary>
/// TorchSharp's <c>libLibTorchSharp.so</c> is built with GCC 13 and needs <c>GLIBCXX_3.4.32</c> for one
/// symbol, <c>std::ios_base_library_init()</c>, which GCC 13 emits as a reference but nothing calls.
/// glibc refuses the whole library on Debian 12 / Ubuntu 22.04 (GCC 12, up to <c>GLIBCXX_3.4.30</c>).
/// Renaming that one version need to a version the system has makes the library load; the symbol
/// itself stays unresolved, which lazy binding allows because it is never called.
/// </summary>
internal static class GlibcxxShim
{
    public const string LibStdCxx = "libstdc++.so.6";
    public const string Missing = "GLIBCXX_3.4.32";
    public const string Replacement = "GLIBCXX_3.4.30";

    /// <summary>Symbols known to be referenced but never called, so their version may be rewritten.</summary>
    static readonly HashSet<string> NeverCalled = ["_ZSt21ios_base_library_initv"];

    public static GlibcxxPlan Plan(ElfImage library, IReadOnlySet<string> systemVersions, out string detail)
    {
        var missing = library.VersionNeeds
            .Where(n => n.Library == LibStdCxx && !systemVersions.Contains(n.Name))
            .ToList();
        if (missing.Count == 0)
        {
            detail = "every libstdc++ version it needs is present";
            return GlibcxxPlan.LoadAsIs;
        }
        var blockers = missing
            .Where(n => n.Name != Missing || !systemVersions.Contains(Replacement)
                        || library.SymbolsOfVersion(n.Index).Any(s => !NeverCalled.Contains(s)))
            .Select(n => n.Name)
            .ToList();
        if (blockers.Count > 0)
        {
            detail = $"it needs {string.Join(", ", blockers)} from {LibStdCxx}, which this system's libstdc++ does not provide";
            return GlibcxxPlan.Unsupported;
        }
        detail = $"only {Missing} is missing, for symbols that are never called; a copy needing {Replacement} instead is loaded";
        return GlibcxxPlan.LoadRewrittenCopy;
    }

    /// <summary>
    /// Returns a copy of the image whose <see cref="Missing"/> need from libstdc++ reads
    /// <see cref="Replacement"/>: the name in <c>.dynstr</c> and the <c>vna_hash</c>. Nothing else changes.
    /// </summary>
    public static byte[] Rewrite(byte[] image)
    {
        var need = ElfImage.Read(image).VersionNeeds.SingleOrDefault(n => n.Library == LibStdCxx && n.Name == Missing)
            ?? throw new InvalidDataException($"The library does not need {Missing} from {LibStdCxx}; nothing to rewrite.");
        var patched = (byte[])image.Clone();
        // Same length, so the string table keeps its layout; the terminating NUL stays where it is.
        Encoding.ASCII.GetBytes(Replacement).CopyTo(patched, need.NameOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(patched.AsSpan((int)need.AuxOffset), ElfImage.Hash(Replacement));
        return patched;
    }
}
