using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Runtime;

public class TorchRuntimeTests
{
    static string NativeLibrary() => TorchRuntime.FindNativeLibrary()
        ?? throw new InvalidOperationException("libLibTorchSharp.so not found next to TorchSharp");

    [Fact]
    public void Native_library_loads_and_computes()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }).view(2, 2);
        var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
        using var bf = a.to(ScalarType.BFloat16);
        Assert.Equal(54f, bf.matmul(bf).sum().to(ScalarType.Float32).item<float>());
    }

    [Fact]
    public void Libtorch_is_looked_for_by_full_path_beside_the_library_then_in_search_folders_then_in_the_newest_nuget_package()
    {
        // A NuGet cache as a notebook host sees it: TorchSharp's native folder has no libtorch; two libtorch packages do.
        var root = Directory.CreateTempSubdirectory("notebooklens-packages-").FullName;
        try
        {
            string Native(string package, string version) => Path.Combine(root, package, version, "runtimes", "linux-x64", "native");
            var original = Path.Combine(Native("torchsharp", "0.107.0"), "libLibTorchSharp.so");
            foreach (var version in new[] { "2.9.1", "2.10.0" }) Directory.CreateDirectory(Native("libtorch-cpu-linux-x64", version));
            Directory.CreateDirectory(Path.GetDirectoryName(original)!);
            var candidates = TorchRuntime.LibTorchCandidates(original, "/opt/a:/opt/b").ToList();
            Assert.Equal(
                [
                    Path.Combine(Path.GetDirectoryName(original)!, "libtorch.so"), "/opt/a/libtorch.so", "/opt/b/libtorch.so",
                    Path.Combine(Native("libtorch-cpu-linux-x64", "2.10.0"), "libtorch.so"), Path.Combine(Native("libtorch-cpu-linux-x64", "2.9.1"), "libtorch.so"),
                ], candidates);
            Assert.All(candidates, c => Assert.True(Path.IsPathRooted(c)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Status_says_how_the_library_was_prepared()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Contains("libLibTorchSharp.so", TorchRuntime.Status);
    }

    [Fact]
    public void OpenMP_workers_sleep_when_idle_unless_the_environment_chose_a_policy()
    {
        TorchRuntime.EnsureLoaded();
        var chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        // libgomp reads the native environment, not .NET's copy of it.
        Assert.Equal(chosen ?? "PASSIVE", OpenMpThreads.NativeValue());
        Assert.Contains(chosen is null ? "OMP_WAIT_POLICY=PASSIVE" : $"OpenMP wait policy {chosen}", TorchRuntime.Status);
    }

    [Fact]
    public void Elf_hashes_we_compute_equal_the_ones_the_linker_stored()
    {
        var needs = ElfImage.Read(NativeLibrary()).VersionNeeds;
        Assert.Contains(needs, n => n.Library == "libstdc++.so.6" && n.Name.StartsWith("GLIBCXX_", StringComparison.Ordinal));
        Assert.All(needs, n => Assert.Equal(n.Hash, ElfImage.Hash(n.Name)));
    }

    [Fact]
    public void The_process_libstdcxx_defines_its_versions()
    {
        var path = TorchRuntime.SystemLibStdCxx();
        Assert.NotNull(path);
        var defined = ElfImage.Read(path!).VersionDefinitions;
        Assert.Contains("GLIBCXX_3.4", defined);
        Assert.Contains("GLIBCXX_3.4.30", defined);
    }

    [Fact]
    public void Rewrite_changes_only_the_one_version_need()
    {
        var original = File.ReadAllBytes(NativeLibrary());
        var before = ElfImage.Read(original).VersionNeeds.Single(n => n.Name == GlibcxxShim.Missing);
        var patched = GlibcxxShim.Rewrite(original);

        var after = ElfImage.Read(patched);
        Assert.DoesNotContain(after.VersionNeeds, n => n.Name == GlibcxxShim.Missing);
        var renamed = after.VersionNeeds.Single(n => n.AuxOffset == before.AuxOffset);
        Assert.Equal(GlibcxxShim.Replacement, renamed.Name);
        Assert.Equal(ElfImage.Hash(GlibcxxShim.Replacement), renamed.Hash);
        Assert.Equal(before.Index, renamed.Index);
        Assert.Equal(ElfImage.Read(original).VersionNeeds.Count, after.VersionNeeds.Count);

        // Every changed byte lies in the name or in vna_hash.
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, i => Assert.True(
            (i >= before.NameOffset && i < before.NameOffset + GlibcxxShim.Missing.Length) || (i >= before.AuxOffset && i < before.AuxOffset + 4),
            $"byte {i} changed outside the version need"));
    }

    [Fact]
    public void Rewrite_refuses_a_library_without_the_need()
    {
        var patched = GlibcxxShim.Rewrite(File.ReadAllBytes(NativeLibrary()));
        Assert.Throws<InvalidDataException>(() => GlibcxxShim.Rewrite(patched));
    }

    [Fact]
    public void Plan_leaves_the_library_alone_where_libstdcxx_is_new_enough()
    {
        var library = ElfImage.Read(NativeLibrary());
        var gcc13 = Versions(32);
        Assert.Equal(GlibcxxPlan.LoadAsIs, GlibcxxShim.Plan(library, gcc13, out _));
    }

    [Fact]
    public void Plan_rewrites_on_a_gcc12_libstdcxx()
    {
        var library = ElfImage.Read(NativeLibrary());
        Assert.Equal(GlibcxxPlan.LoadRewrittenCopy, GlibcxxShim.Plan(library, Versions(30), out var detail));
        Assert.Contains(GlibcxxShim.Missing, detail);
    }

    [Fact]
    public void Plan_refuses_when_real_symbols_would_be_missing()
    {
        var library = ElfImage.Read(NativeLibrary());
        // GCC 11's libstdc++ (up to 3.4.29) lacks 3.4.30, which the library needs for symbols it calls.
        Assert.Equal(GlibcxxPlan.Unsupported, GlibcxxShim.Plan(library, Versions(29), out var detail));
        Assert.Contains("GLIBCXX_3.4.30", detail);
    }

    [Fact]
    public void Only_the_never_called_symbol_uses_the_missing_version()
    {
        var library = ElfImage.Read(NativeLibrary());
        var need = library.VersionNeeds.Single(n => n.Name == GlibcxxShim.Missing);
        Assert.Equal(["_ZSt21ios_base_library_initv"], library.SymbolsOfVersion(need.Index).Distinct());
    }

    [Fact]
    public void Non_elf_input_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfImage.Read("not an ELF file, just text"u8.ToArray()));
        Assert.Contains("not an ELF file", e.Message);
    }

    /// <summary>GLIBCXX_3.4 .. GLIBCXX_3.4.{last} and the CXXABI versions, as a libstdc++ defines them.</summary>
    static HashSet<string> Versions(int last)
    {
        var set = new HashSet<string> { "GLIBCXX_3.4" };
        for (int i = 1; i <= last; i++) set.Add($"GLIBCXX_3.4.{i}");
        for (int i = 1; i <= 15; i++) set.Add($"CXXABI_1.3.{i}");
        set.Add("CXXABI_1.3");
        return set;
    }
}

public class MemoryCheckTests
{
    [Fact]
    public void Refuses_what_does_not_fit_with_advice()
    {
        var e = Assert.Throws<InsufficientMemoryException>(() =>
            MemoryCheck.Require(12_000_000_000, 5_000_000_000, "Loading X as float32", "Load it in bfloat16."));
        Assert.Contains("12.0 GB", e.Message);
        Assert.Contains("5.0 GB", e.Message);
        Assert.Contains("bfloat16", e.Message);
        MemoryCheck.Require(1_000, 5_000, "small", "");
        MemoryCheck.Require(long.MaxValue, null, "unknown availability", "");
    }

    [Fact]
    public void Reads_available_memory_on_linux()
    {
        Assert.InRange(MemoryCheck.AvailableBytes()!.Value, 1L << 20, 1L << 50);
    }
}
