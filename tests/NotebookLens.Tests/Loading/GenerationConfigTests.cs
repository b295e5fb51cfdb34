using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

/// <summary>The one reader of generation_config.json, which the model's stop tokens and the tokenizer's end ids share.</summary>
public class GenerationConfigTests
{
    static string Folder(string? json) => Fixtures.TempDirWith(GenerationConfig.FileName, json);

    [Theory]
    [InlineData(null, new int[0])]
    [InlineData("""{"bos_token_id": 1}""", new int[0])]
    [InlineData("""{"eos_token_id": 7}""", new[] { 7 })]
    [InlineData("""{"eos_token_id": [128001, 128008, 128009]}""", new[] { 128001, 128008, 128009 })]
    [InlineData("""{"eos_token_id": 2.0}""", new[] { 2 })]
    public void Reads_the_end_ids(string? json, int[] expected) =>
        Assert.Equal(expected, GenerationConfig.Load(Folder(json)).EosTokenIds);

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"eos_token_id": ["eot"]}""")]
    public void Names_the_file_when_it_is_not_valid(string json)
    {
        var folder = Folder(json);
        var e = Assert.Throws<InvalidDataException>(() => GenerationConfig.Load(folder));
        Assert.Contains(Path.Combine(folder, GenerationConfig.FileName), e.Message);
    }
}
