using System.Text.Json;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Tokenization;

/// <summary>The three real tokenizers, loaded once (Gemma's tokenizer.json is 33 MB).</summary>
public sealed class FixtureTokenizers
{
    readonly Dictionary<string, Lazy<HfTokenizer>> _tokenizers = new()
    {
        ["llama3"] = new(() => HfTokenizer.Load(Fixtures.Llama)),
        ["gemma3"] = new(() => HfTokenizer.Load(Fixtures.Gemma)),
        ["llama3-nobos"] = new(() => HfTokenizer.Load(Path.Combine(Fixtures.Root, "tokenizers", "llama3-nobos"))),
    };

    public HfTokenizer this[string name] => _tokenizers[name].Value;

    public static JsonElement Cases(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures.Root, "tokenizers", name + ".json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }
}

/// <summary>Every case of the transformers.js oracles: ids, tokens and decodes, exactly.</summary>
public sealed class TokenizerFixtureTests(FixtureTokenizers tokenizers) : IClassFixture<FixtureTokenizers>
{
    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "llama3", "gemma3", "llama3-nobos" })
            foreach (var c in FixtureTokenizers.Cases(name).EnumerateArray()) data.Add(name, c.GetProperty("id").GetInt32());
        return data;
    }

    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Matches_the_oracle(string name, int id)
    {
        var tokenizer = tokenizers[name];
        var c = FixtureTokenizers.Cases(name).EnumerateArray().Single(x => x.GetProperty("id").GetInt32() == id);
        var text = c.GetProperty("text").GetString()!;

        var withSpecial = tokenizer.Tokenize(text);
        var plain = tokenizer.Tokenize(text, addSpecialTokens: false);
        Assert.Equal(Ints(c.GetProperty("ids")), withSpecial.Select(t => t.Id));
        Assert.Equal(Ints(c.GetProperty("ids_no_special")), plain.Select(t => t.Id));
        Assert.Equal(Strings(c.GetProperty("tokens")), withSpecial.Select(t => t.Raw));
        Assert.Equal(Strings(c.GetProperty("tokens_no_special")), plain.Select(t => t.Raw));

        var ids = Ints(c.GetProperty("ids"));
        Assert.Equal(c.GetProperty("decode").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal(c.GetProperty("decode_skip_special").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(c.GetProperty("decode_no_cleanup").GetString(), tokenizer.Decode(ids, false, cleanUpTokenizationSpaces: false));
        Assert.Equal(c.GetProperty("decode_no_special_ids_no_cleanup").GetString(),
            tokenizer.Decode(Ints(c.GetProperty("ids_no_special")), false, cleanUpTokenizationSpaces: false));
    }
}
