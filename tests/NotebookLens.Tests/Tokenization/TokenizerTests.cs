using System.Text.Json.Nodes;
using NotebookLens.Tokenization;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace NotebookLens.Tests.Tokenization;

public sealed class TokenizerTests(FixtureTokenizers tokenizers) : IClassFixture<FixtureTokenizers>
{
    [Fact]
    public void Llama3_splits_dajiahao_into_three_tokens()
    {
        var tokens = tokenizers["llama3"].Tokenize("大家好");
        Assert.Equal(["<|begin_of_text|>", "大家", "好"], tokens.Select(t => t.Text));
        Assert.Equal(128000, tokens[0].Id);
        Assert.True(tokens[0].Special);
        Assert.False(tokens[1].Special);
    }

    [Fact]
    public void Vocabulary_facts_the_lecture_shows()
    {
        var llama = tokenizers["llama3"];
        Assert.Equal(128_256, llama.VocabSize);
        Assert.Equal(128_000, llama.ModelVocabSize);
        Assert.Equal("!", llama.IdToToken(0));
        Assert.Equal(0, llama.TokenToId("!"));
        Assert.Equal(128000, llama.BosId);
        Assert.Equal([128001, 128008, 128009], llama.EosIds.Order());
        var gemma = tokenizers["gemma3"];
        Assert.Equal(262_144, gemma.ModelVocabSize);
        Assert.Equal(262_145, gemma.VocabSize);
        Assert.Equal(2, gemma.BosId);
        Assert.Equal(0, gemma.PadId);
        Assert.Equal([1, 106], gemma.EosIds.Order());
        Assert.Null(llama.IdToToken(999_999));
        Assert.Null(llama.TokenToId("no such token"));
    }

    [Fact]
    public void Display_text_shows_what_tokens_stand_for()
    {
        var llama = tokenizers["llama3"];
        var apple = llama.Tokenize(" apple\n", addSpecialTokens: false);
        Assert.Equal(["Ġapple", "Ċ"], apple.Select(t => t.Raw));
        Assert.Equal([" apple", "\n"], apple.Select(t => t.Text));
        // 🍎 is four bytes (F0 9F 8D 8E) that Llama 3 spells with three tokens: each shows the bytes it holds.
        var apple3 = llama.Tokenize("🍎", addSpecialTokens: false);
        Assert.Equal(["ðŁ", "į", "İ"], apple3.Select(t => t.Raw));
        Assert.Equal(["\\xF0\\x9F", "\\x8D", "\\x8E"], apple3.Select(t => t.Text));
        Assert.Equal("🍎", llama.Decode(apple3.Select(t => t.Id), false));

        var gemma = tokenizers["gemma3"];
        var g = gemma.Tokenize("The apple", addSpecialTokens: false);
        Assert.Equal(["The", "▁apple"], g.Select(t => t.Raw));
        Assert.Equal(["The", " apple"], g.Select(t => t.Text));
        Assert.Equal("\\xF0", gemma.DisplayText(gemma.TokenToId("<0xF0>")!.Value));
        Assert.Equal("\n", gemma.DisplayText(gemma.TokenToId("<0x0A>")!.Value));
        Assert.Equal("<start_of_turn>", gemma.DisplayText(105));
    }

    [Theory]
    [InlineData("llama3", "The apple is green. 今天天氣很好! 🐍 x=1234567")]
    [InlineData("gemma3", "The apple is green. 今天天氣很好! 🐍 x=1234567")]
    [InlineData("gemma3", "<start_of_turn>user\nHi there<end_of_turn>")]
    public void Offsets_cover_the_text_in_order(string name, string text)
    {
        var tokens = tokenizers[name].Tokenize(text, addSpecialTokens: false);
        int end = 0;
        foreach (var t in tokens)
        {
            var (start, stop) = (t.Offsets.Start.Value, t.Offsets.End.Value);
            Assert.True(start >= end - 4 && stop >= start, $"{t.Raw} at {start}..{stop}");
            end = Math.Max(end, stop);
        }
        Assert.Equal(text.Length, end);
        // Whole-character tokens cover exactly the text they display.
        foreach (var t in tokens.Where(t => !t.Text.Contains("\\x")))
            Assert.Equal(t.Text, text[t.Offsets]);
    }

    [Fact]
    public void Post_processor_decides_bos()
    {
        Assert.Equal(128000, tokenizers["llama3"].Encode("hi")[0]);
        Assert.NotEqual(128000, tokenizers["llama3-nobos"].Encode("hi")[0]);
        Assert.Equal(tokenizers["llama3-nobos"].Encode("hi"), tokenizers["llama3-nobos"].Encode("hi", addSpecialTokens: false));
    }

    [Fact]
    public void Is_a_microsoft_ml_tokenizer()
    {
        MLTokenizer tokenizer = tokenizers["llama3"];
        var ids = tokenizer.EncodeToIds("The apple is green.");
        Assert.Equal(tokenizers["llama3"].Encode("The apple is green."), ids);
        Assert.Equal("<|begin_of_text|>The apple is green.", tokenizer.Decode(ids));
        Assert.Equal(3, tokenizer.EncodeToIds("The apple is green.", maxTokenCount: 3, out _, out int consumed).Count);
        Assert.Equal("The apple".Length, consumed);
        Assert.Equal(ids.Count, tokenizer.CountTokens("The apple is green."));
    }

    [Fact]
    public void Decode_rejects_unknown_ids()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizers["llama3"].Decode([1, 200_000], false));
        Assert.Contains("200000", e.Message);
    }
}
