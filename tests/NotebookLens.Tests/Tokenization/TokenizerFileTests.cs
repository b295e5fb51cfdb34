using System.Text.Json.Nodes;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Tokenization;

/// <summary>Small hand-written tokenizer.json files: BPE semantics, and errors for files we cannot run.</summary>
public class TokenizerFileTests
{
    /// <summary>A SentencePiece-style BPE over a, b, c, ▁ with byte fallback tokens for every byte.</summary>
    static JsonObject Tiny(bool byteFallback = true, bool ignoreMerges = false)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["a"] = 2, ["b"] = 3, ["c"] = 4, ["▁"] = 5, ["ab"] = 6, ["bc"] = 7, ["abc"] = 8, ["▁a"] = 9, ["ca"] = 10 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 11 + b;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true }),
            ["normalizer"] = new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" },
            ["pre_tokenizer"] = null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>" } }, new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A" } }),
                ["special_tokens"] = new JsonObject { ["<s>"] = new JsonObject { ["ids"] = new JsonArray(1) } },
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["byte_fallback"] = byteFallback, ["ignore_merges"] = ignoreMerges, ["fuse_unk"] = true,
                ["vocab"] = vocab,
                // Ranks: "b c" before "a b", so "abc" becomes a + bc, never ab + c (and then no "a bc" merge exists).
                ["merges"] = new JsonArray("b c", "a b", "▁ a", "ab c", "c a"),
            },
        };
    }

    static HfTokenizer Load(JsonObject tokenizer, JsonObject? config = null)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        if (config is not null) File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        return HfTokenizer.Load(dir);
    }

    [Fact]
    public void Merges_apply_lowest_rank_first()
    {
        var t = Load(Tiny());
        Assert.Equal(["a", "bc"], t.Tokenize("abc", false).Select(x => x.Raw));
        Assert.Equal(["▁a", "bc", "ca"], t.Tokenize(" abcca", false).Select(x => x.Raw));
        Assert.Equal([1, 2, 7], t.Encode("abc"));
    }

    [Fact]
    public void Ignore_merges_takes_whole_words_from_the_vocabulary()
    {
        var t = Load(Tiny(ignoreMerges: true));
        Assert.Equal(["abc"], t.Tokenize("abc", false).Select(x => x.Raw));
    }

    [Fact]
    public void Unknown_characters_fall_back_to_bytes_and_decode_back()
    {
        var t = Load(Tiny());
        var tokens = t.Tokenize("aé", false);
        Assert.Equal(["a", "<0xC3>", "<0xA9>"], tokens.Select(x => x.Raw));
        Assert.Equal("aé", t.Decode(tokens.Select(x => x.Id), false));
        // A lone continuation byte is not UTF-8: one U+FFFD per byte, as transformers does.
        Assert.Equal("a\uFFFD", t.Decode([2, 11 + 0xA9], false));
    }

    [Fact]
    public void Without_byte_fallback_unknown_characters_fuse_into_one_unk()
    {
        var t = Load(Tiny(byteFallback: false));
        Assert.Equal(["a", "<unk>", "b"], t.Tokenize("aéüb", false).Select(x => x.Raw));
    }

    [Fact]
    public void Missing_tokenizer_json()
    {
        var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.Load(Fixtures.TempDir()));
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Tokenizer_json_that_is_not_json()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": ");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => HfTokenizer.Load(dir)).Message);
    }

    [Theory]
    [InlineData("model.type", "Unigram", "model type 'Unigram'")]
    [InlineData("pre_tokenizer", "{\"type\":\"BertPreTokenizer\"}", "pre_tokenizer type 'BertPreTokenizer'")]
    [InlineData("normalizer", "{\"type\":\"Precompiled\"}", "normalizer type 'Precompiled'")]
    [InlineData("decoder", "{\"type\":\"WordPiece\"}", "decoder type 'WordPiece'")]
    [InlineData("post_processor", "{\"type\":\"BertProcessing\"}", "post_processor type 'BertProcessing'")]
    public void Unsupported_components_are_named(string path, string value, string expected)
    {
        var json = Tiny();
        var node = value.StartsWith('{') ? JsonNode.Parse(value) : JsonValue.Create(value);
        if (path == "model.type") json["model"]!["type"] = node;
        else json[path] = node;
        var e = Assert.Throws<NotSupportedException>(() => Load(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Merge_with_a_piece_outside_the_vocabulary()
    {
        var json = Tiny();
        json["model"]!["merges"]!.AsArray().Add("a z");
        Assert.Contains("'a' + 'z'", Assert.Throws<InvalidDataException>(() => Load(json)).Message);
    }

    [Fact]
    public void Byte_fallback_without_byte_tokens()
    {
        var json = Tiny();
        json["model"]!["vocab"]!.AsObject().Remove("<0x41>");
        Assert.Contains("<0x41>", Assert.Throws<InvalidDataException>(() => Load(json)).Message);
    }

    [Fact]
    public void Model_without_vocab()
    {
        var json = Tiny();
        json["model"]!.AsObject().Remove("vocab");
        Assert.Contains("vocab", Assert.Throws<InvalidDataException>(() => Load(json)).Message);
    }

    [Fact]
    public void Config_names_special_tokens_and_cleanup()
    {
        var t = Load(Tiny(), new JsonObject
        {
            ["bos_token"] = new JsonObject { ["content"] = "<s>" }, ["eos_token"] = "<s>", ["clean_up_tokenization_spaces"] = true,
            ["chat_template"] = new JsonArray(new JsonObject { ["name"] = "tool_use", ["template"] = "x" }, new JsonObject { ["name"] = "default", ["template"] = "{{ messages }}" }),
        });
        Assert.Equal(1, t.BosId);
        Assert.Equal([1], t.EosIds);
        Assert.True(t.Settings.CleanUpTokenizationSpaces);
        Assert.Equal("{{ messages }}", t.Settings.ChatTemplate);
    }
}

public class UnicodeRegexTests
{
    [Fact]
    public void Astral_letters_are_one_letter_each()
    {
        var regex = new UnicodeRegex(@"\p{L}+|\p{N}+|[^\s\p{L}\p{N}]+");
        var text = "a𝔘𝔫b 𝟙𝟚 🍎!";
        var pieces = regex.Matches(text).Select(m => text.Substring(m.Start, m.Length)).ToList();
        Assert.Equal(["a𝔘𝔫b", "𝟙𝟚", "🍎!"], pieces);
    }

    [Fact]
    public void Bmp_text_matches_as_dotnet_would()
    {
        var regex = new UnicodeRegex(@"\p{N}{1,3}");
        Assert.Equal([(0, 3), (3, 3), (6, 1)], regex.Matches("1234567"));
    }

    [Fact]
    public void Long_s_folds_to_s_as_in_the_rust_and_javascript_engines()
    {
        var regex = new UnicodeRegex(@"(?i:'s)|\p{L}+");
        Assert.Equal([(0, 2), (2, 1)], regex.Matches("'ſx"));
    }

    [Fact]
    public void Invalid_patterns_are_explained()
    {
        Assert.Contains("split pattern", Assert.Throws<NotSupportedException>(() => new UnicodeRegex("(unclosed")).Message);
    }
}
