using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

/// <summary>A model folder's notebooklens.json: the defaults a model trained for the lecture asks for.</summary>
public class ModelDefaultsTests
{
    static string Folder(string? json) => Fixtures.TempDirWith(ModelDefaults.FileName, json);

    [Fact]
    public void What_is_saved_is_read_back_as_written()
    {
        var folder = Folder(null);
        var defaults = new ModelDefaults(new PatchscopeDefault("cold = 冷, x =", "x", 1));
        defaults.Save(folder);
        Assert.Equal(defaults, ModelDefaults.Load(folder));
        // Readable by people and by Python's json: the Chinese as it is, HF's snake case.
        var text = File.ReadAllText(Path.Combine(folder, ModelDefaults.FileName));
        Assert.Contains("\"prompt\": \"cold = 冷, x =\"", text);
        Assert.Contains("\"target_layer\": 1", text);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("{}")]
    [InlineData("""{"patchscope": null}""")]
    public void A_folder_without_the_file_or_the_entry_has_no_defaults(string? json) =>
        Assert.Null(ModelDefaults.Load(Folder(json)).Patchscope);

    [Fact]
    public void The_target_layer_is_optional() =>
        Assert.Equal(new PatchscopeDefault("a = b, x =", "x", null),
            ModelDefaults.Load(Folder("""{"patchscope": {"prompt": "a = b, x =", "placeholder": "x"}}""")).Patchscope);

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"patchscope": {"prompt": "a = b, y =", "placeholder": "x"}}""")]
    [InlineData("""{"patchscope": {"prompt": "a = b, x ="}}""")]
    [InlineData("""{"patchscope": {"prompt": 3, "placeholder": "x"}}""")]
    [InlineData("""{"patchscope": {"prompt": "x =", "placeholder": "x", "target_layer": "one"}}""")]
    public void Names_the_file_when_it_is_not_valid(string json)
    {
        var folder = Folder(json);
        var e = Assert.Throws<InvalidDataException>(() => ModelDefaults.Load(folder));
        Assert.Contains(Path.Combine(folder, ModelDefaults.FileName), e.Message);
    }
}
