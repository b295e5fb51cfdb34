using System.Text.Json;
using NotebookLens.Tokenization;
using NotebookLens.Training;

namespace NotebookLens.Tests.Training;

public sealed class BpeTrainerTests
{
    const string Llama3Template = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    static readonly string[] Specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    static readonly string[] Lexicon = [" cold", "cold", " warm", " weather", "冷", "熱", "蘋果", "天氣", "今天", "喜歡", "香蕉", "葡萄"];

    // The corpus runs out of pairs near 570 tokens.
    const int VocabSize = 512;

    static readonly TokenizerFileOptions Files = new() { BosToken = "<|begin_of_text|>", EosToken = "<|eot_id|>", ChatTemplate = Llama3Template };

    static BpeTrainerOptions Options(int vocabSize = VocabSize, IReadOnlyCollection<string>? lexicon = null) =>
        new() { VocabSize = vocabSize, SpecialTokens = Specials, Lexicon = lexicon ?? Lexicon };

    /// <summary>Template sentences in English and Chinese, some wrapped in chat turns whose special tokens must not be learned.</summary>
    static List<string> Corpus(int sentences = 3000)
    {
        string[] adjectives = ["cold", "warm", "hot", "sunny", "rainy", "windy", "cloudy"];
        string[] nouns = ["apple", "banana", "grape", "weather", "river", "mountain", "garden", "teacher"];
        string[] names = ["Alice", "Bob", "Carol", "Dave", "Li Wei", "Zhang San"];
        string[] fruits = ["蘋果", "香蕉", "葡萄", "橘子", "西瓜"];
        string[] feelings = ["冷", "熱", "舒服", "潮濕"];
        string[] people = ["我", "他", "她", "老師", "媽媽", "朋友"];
        var random = new Random(12345);
        T Pick<T>(T[] items) => items[random.Next(items.Length)];
        var corpus = new List<string>();
        for (int i = 0; i < sentences; i++)
        {
            var sentence = random.Next(10) switch
            {
                0 => $"It is {Pick(adjectives)} today.",
                1 => $"{Pick(names)} said the {Pick(nouns)} was {Pick(adjectives)}.",
                2 => $"The weather in {Pick(names)}'s town is {Pick(adjectives)}, and it's {random.Next(100)} degrees.",
                3 => "今天天氣真好。",
                4 => $"{Pick(people)}喜歡吃{Pick(fruits)}。",
                5 => $"今天很{Pick(feelings)}，{Pick(people)}說天氣不錯。",
                6 => $"{Pick(names)}買了{random.Next(1, 20)}個{Pick(fruits)}，很{Pick(feelings)}。",
                7 => $"<|start_header_id|>user<|end_header_id|>\n\nIs it {Pick(adjectives)}?<|eot_id|>",
                8 => $"I like {Pick(nouns)}s and {Pick(nouns)}s.\n",
                _ => $"天氣很{Pick(feelings)}, but the {Pick(nouns)} is {Pick(adjectives)}.",
            };
            corpus.Add(sentence);
        }
        return corpus;
    }

    static readonly Lazy<(TrainedBpe Bpe, string Folder)> Trained = new(() =>
    {
        var bpe = BpeTrainer.Train(Corpus(), Options());
        var folder = Fixtures.TempDir();
        bpe.Save(folder, Files);
        return (bpe, folder);
    });

    static HfTokenizer Tokenizer => HfTokenizer.Load(Trained.Value.Folder);

    [Theory]
    [InlineData("It is cold today.")]
    [InlineData("Emoji 👋🏽🇨🇳 and ünïcödé, tabs\tand\r\nCRLF\n\n\nlines")]
    [InlineData("龍飛鳳舞，鸞翔鳳集！未見過的漢字：饕餮、魑魅魍魎。")]
    [InlineData("Digits 1234567890 3.14159 and -42, 100%")]
    [InlineData("   leading and trailing spaces   ")]
    [InlineData("混合 mixed 文字 text，今天天氣真好。I'm fine, you're late; we'll see.")]
    [InlineData("<|eot_id|> inside text <|start_header_id|>")]
    public void Encoding_round_trips_any_text(string text)
    {
        var tokenizer = Tokenizer;
        var ids = tokenizer.Encode(text, addSpecialTokens: false);
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false));
        var withBos = tokenizer.Encode(text);
        Assert.Equal(tokenizer.BosId, withBos[0]);
        Assert.Equal(ids, withBos.Skip(1));
    }

    [Fact]
    public void Lexicon_words_are_single_tokens_alone()
    {
        var (bpe, _) = Trained.Value;
        var tokenizer = Tokenizer;
        foreach (var word in Lexicon)
            Assert.Equal([bpe.Vocab[ByteLevelAlphabet.Encode(word)]], tokenizer.Encode(word, addSpecialTokens: false));
    }

    [Theory]
    [InlineData("It is cold today.", " cold")]
    [InlineData("cold weather", "cold")]
    [InlineData("Alice said the weather was warm.", " warm")]
    [InlineData("今天天氣真好。", "天氣")]
    [InlineData("今天天氣真好。", "今天")]
    [InlineData("我喜歡吃蘋果。", "蘋果")]
    [InlineData("我喜歡吃蘋果。", "喜歡")]
    [InlineData("今天很冷，他說天氣不錯。", "冷")]
    [InlineData("Bob買了3個葡萄，很熱。", "葡萄")]
    [InlineData("天氣很熱, but the river is cold.", " cold")]
    public void Lexicon_words_are_single_tokens_in_training_sentences(string sentence, string word)
    {
        var tokens = Tokenizer.Tokenize(sentence, addSpecialTokens: false).Select(t => t.Text);
        Assert.Contains(word, tokens);
    }

    [Fact]
    public void Every_chinese_lexicon_word_in_every_training_sentence_is_one_token()
    {
        var tokenizer = Tokenizer;
        foreach (var sentence in Corpus().Distinct())
        {
            var tokens = tokenizer.Tokenize(sentence, addSpecialTokens: false).Select(t => t.Text).ToList();
            foreach (var word in Lexicon.Where(w => w.Length > 1 && w.All(c => c > 0x3000) && sentence.Contains(w)))
                Assert.True(tokens.Contains(word), $"'{word}' is not one token in '{sentence}': {string.Join(" | ", tokens)}");
        }
    }

    [Fact]
    public void Special_tokens_follow_the_vocabulary_in_order_and_are_never_learned()
    {
        var (bpe, _) = Trained.Value;
        var tokenizer = Tokenizer;
        int first = bpe.Vocab.Count;
        for (int i = 0; i < Specials.Length; i++)
        {
            Assert.Equal(new SpecialToken(Specials[i], first + i), bpe.SpecialTokens[i]);
            Assert.Equal([first + i], tokenizer.Encode(Specials[i], addSpecialTokens: false));
            Assert.Contains(first + i, tokenizer.SpecialIds);
        }
        Assert.Equal(first, tokenizer.BosId);
        Assert.Equal([first + 4], tokenizer.EosIds);
        // The corpus holds the chat markers a thousand times; as cut-out specials they add no merges.
        Assert.DoesNotContain(bpe.Vocab.Keys, t => t.Contains("header", StringComparison.Ordinal) || t.Contains("eot", StringComparison.Ordinal));
    }

    [Fact]
    public void Vocabulary_has_exactly_the_requested_size()
    {
        var (bpe, _) = Trained.Value;
        Assert.Equal(VocabSize, bpe.VocabSize);
        Assert.Equal(VocabSize, Tokenizer.VocabSize);
        Assert.Equal(VocabSize - Specials.Length, Tokenizer.ModelVocabSize);
        // Ids 0..255 are the bytes in code point order, as Hugging Face numbers them.
        Assert.Equal(0, bpe.Vocab["!"]);
        Assert.Equal(220, bpe.Vocab["Ġ"]);
    }

    [Theory]
    [InlineData(330)]
    [InlineData(345)]
    [InlineData(400)]
    public void A_tight_vocabulary_still_fits_the_lexicon_exactly(int vocabSize)
    {
        var bpe = BpeTrainer.Train(Corpus(), Options(vocabSize));
        Assert.Equal(vocabSize, bpe.VocabSize);
        var folder = Fixtures.TempDir();
        bpe.Save(folder, Files);
        var tokenizer = HfTokenizer.Load(folder);
        foreach (var word in Lexicon) Assert.Single(tokenizer.Encode(word, addSpecialTokens: false));
        Assert.Contains(" cold", tokenizer.Tokenize("It is cold today.", false).Select(t => t.Text));
        // 我 and 吃 may still be bytes in so small a vocabulary; the words are whole regardless.
        var tokens = tokenizer.Tokenize("我喜歡吃蘋果。", false).Select(t => t.Text).ToList();
        Assert.Contains("喜歡", tokens);
        Assert.Contains("蘋果", tokens);
    }

    [Fact]
    public void A_corpus_too_small_for_the_vocabulary_gives_fewer_tokens_but_keeps_the_lexicon()
    {
        var bpe = BpeTrainer.Train(["It is cold.", "今天天氣真好。"], Options(vocabSize: 5000));
        Assert.True(bpe.VocabSize < 5000);
        var folder = Fixtures.TempDir();
        bpe.Save(folder, Files);
        var tokenizer = HfTokenizer.Load(folder);
        foreach (var word in Lexicon) Assert.Single(tokenizer.Encode(word, addSpecialTokens: false));
        Assert.Contains("天氣", tokenizer.Tokenize("今天天氣真好。", false).Select(t => t.Text));
    }

    [Fact]
    public void MinFrequency_stops_merging_rare_pairs_but_not_the_lexicon()
    {
        var corpus = Corpus();
        var bpe = BpeTrainer.Train(corpus, Options() with { MinFrequency = 500 });
        Assert.True(bpe.VocabSize < VocabSize);
        Assert.All(Lexicon, word => Assert.Contains(ByteLevelAlphabet.Encode(word), bpe.Vocab.Keys));
        // "Zhang San" occurs about 150 times, too rare for its pieces to be merged by frequency.
        Assert.DoesNotContain("ĠSan", bpe.Vocab.Keys);
        Assert.Contains("ĠSan", BpeTrainer.Train(corpus, Options()).Vocab.Keys);
    }

    [Fact]
    public void Training_twice_writes_identical_files()
    {
        var (_, folder) = Trained.Value;
        // The same lexicon as a set and reversed: its order must not matter.
        var again = BpeTrainer.Train(Corpus(), Options(lexicon: Lexicon.Reverse().ToHashSet()));
        var other = Fixtures.TempDir();
        again.Save(other, Files);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, file)), File.ReadAllBytes(Path.Combine(other, file)));
    }

    [Fact]
    public void A_vocabulary_too_small_for_bytes_specials_and_lexicon_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(Corpus(100), Options(vocabSize: 256 + Specials.Length + 10)));
        Assert.Contains("too small", e.Message);
        Assert.Contains("lexicon", e.Message);
    }

    [Fact]
    public void Saved_files_have_llama3s_layout()
    {
        var (bpe, folder) = Trained.Value;
        using var tokenizer = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "tokenizer.json")));
        var root = tokenizer.RootElement;
        var split = root.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0];
        Assert.Equal(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
            split.GetProperty("pattern").GetProperty("Regex").GetString());
        Assert.Equal("Isolated", split.GetProperty("behavior").GetString());
        Assert.Equal(Specials, root.GetProperty("added_tokens").EnumerateArray().Select(t => t.GetProperty("content").GetString()));
        var model = root.GetProperty("model");
        Assert.Equal(bpe.Merges.Count, model.GetProperty("merges").GetArrayLength());
        Assert.Equal($"{bpe.Merges[0].Left} {bpe.Merges[0].Right}", model.GetProperty("merges")[0].GetString());

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "tokenizer_config.json")));
        Assert.Equal(Llama3Template, config.RootElement.GetProperty("chat_template").GetString());
        Assert.Equal("PreTrainedTokenizerFast", config.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal("<|eot_id|>", config.RootElement.GetProperty("added_tokens_decoder").GetProperty($"{bpe.Vocab.Count + 4}").GetProperty("content").GetString());
        // Readable: the default encoder would write '<' and the quotes as \u escapes.
        Assert.Contains("'<|start_header_id|>'", File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")));
    }

    [Fact]
    public void The_chat_template_renders_and_encodes_with_single_special_tokens()
    {
        var tokenizer = Tokenizer;
        var text = tokenizer.ApplyChatTemplate([new ChatMessage("system", "You are terse."), new ChatMessage("user", "今天冷嗎？ ")], addGenerationPrompt: true);
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\n今天冷嗎？<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", text);
        var ids = tokenizer.Encode(text, addSpecialTokens: false);
        var (bpe, _) = Trained.Value;
        int Id(string special) => bpe.SpecialTokens.Single(s => s.Content == special).Id;
        Assert.Equal(Id("<|begin_of_text|>"), ids[0]);
        Assert.Equal(Id("<|start_header_id|>"), ids[1]);
        Assert.Equal(2, ids.Count(i => i == Id("<|eot_id|>")));
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false));
    }
}
