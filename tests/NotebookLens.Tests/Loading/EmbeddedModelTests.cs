using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

public sealed class EmbeddedModelTests
{
    static string Source(EmbeddedModel model) => Path.GetFullPath(Path.Combine(Fixtures.Root, "..", "..", "src", "NotebookLens", "Models", model.SourceFolder));

    public static TheoryData<string> Names() => [.. EmbeddedModel.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void The_assembly_carries_every_file_of_the_model_folder(string name)
    {
        var model = EmbeddedModel.Find(name)!;
        Assert.Equal(Directory.GetFiles(Source(model)).Select(Path.GetFileName).Order(StringComparer.Ordinal), model.Files);
        Assert.Superset(new HashSet<string> { "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md" },
            model.Files.ToHashSet());
    }

    [Fact]
    public void The_embedded_models_together_stay_under_20_MB_in_the_repository()
    {
        long bytes = EmbeddedModel.All.Sum(m => Directory.GetFiles(Source(m)).Sum(f => new FileInfo(f).Length));
        Assert.InRange(bytes, 2 * 1_000_000, 20 * 1_000_000);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_name_resolves_to_an_unpacked_copy_identical_to_the_source(string name)
    {
        var model = EmbeddedModel.Find(name)!;
        var folder = ModelLocator.Resolve(name);
        Assert.Equal(model.Folder(), folder);
        Assert.StartsWith(name + "-", Path.GetFileName(folder));
        foreach (var file in model.Files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(Source(model), file)), File.ReadAllBytes(Path.Combine(folder, file)));
    }

    [Fact]
    public void Unpacking_is_done_once_and_repairs_a_damaged_copy()
    {
        var root = Fixtures.TempDir();
        var folder = EmbeddedModel.Tiny.UnpackInto(root);
        Assert.StartsWith(Path.Combine(root, "tiny-"), folder);
        var config = Path.Combine(folder, "config.json");
        var written = File.GetLastWriteTimeUtc(config);
        Assert.Equal(folder, EmbeddedModel.Tiny.UnpackInto(root));
        Assert.Equal(written, File.GetLastWriteTimeUtc(config));

        File.WriteAllText(config, "{");
        File.Delete(Path.Combine(folder, "tokenizer.json"));
        Assert.Equal(folder, EmbeddedModel.Tiny.UnpackInto(root));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Source(EmbeddedModel.Tiny), "config.json")), File.ReadAllBytes(config));
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.json")));
        Assert.Single(Directory.GetDirectories(root)); // no temporary folder left behind
    }

    [Fact]
    public void Concurrent_unpacks_agree_on_one_complete_folder()
    {
        var root = Fixtures.TempDir();
        var folders = Enumerable.Range(0, 4).AsParallel().Select(_ => EmbeddedModel.Tiny.UnpackInto(root)).ToList();
        Assert.Single(folders.Distinct());
        Assert.Equal(EmbeddedModel.Tiny.Files, Directory.GetFiles(folders[0]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Single(Directory.GetDirectories(root));
    }
}
