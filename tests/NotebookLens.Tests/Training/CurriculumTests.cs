using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;

namespace NotebookLens.Tests.Training;

public sealed class CurriculumTests
{
    static List<string> Documents(int seed, int count, ChatFormat? format = null)
    {
        var c = new Curriculum(seed, format);
        return Enumerable.Range(0, count).Select(_ => c.NextDocument()).ToList();
    }

    public static TheoryData<string> Formats => new() { "llama3", "gemma3" };

    static ChatFormat Format(string name) => name == "gemma3" ? ChatFormat.Gemma3 : ChatFormat.Llama3;

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_same_seed_gives_the_same_documents(string format)
    {
        var f = Format(format);
        Assert.Equal(Documents(7, 300, f), Documents(7, 300, f));
        Assert.NotEqual(Documents(7, 300, f), Documents(8, 300, f));
        Assert.All(Documents(7, 300, f), d => Assert.StartsWith(f.Bos, d));
        // The same text, only the chats' markers differ.
        Assert.Equal(Documents(7, 300).Where(d => !d.Contains(ChatFormat.Llama3.EndOfTurn)).Select(d => d[ChatFormat.Llama3.Bos.Length..]),
            Documents(7, 300, f).Where(d => !d.Contains(f.EndOfTurn)).Select(d => d[f.Bos.Length..]));
    }

    [Fact]
    public void The_lexicon_pairs_each_English_word_with_one_Chinese_word()
    {
        var concepts = Lexicon.Concepts;
        Assert.True(concepts.Count >= 200, $"{concepts.Count} concepts");
        Assert.Equal(concepts.Count, concepts.Select(c => c.English).Distinct().Count());
        Assert.Equal(concepts.Count, concepts.Select(c => c.Chinese).Distinct().Count());
        Assert.Equal("冷", Lexicon.English("cold").Chinese);
        Assert.Equal("蘋果", Lexicon.English("apple").Chinese);
        Assert.Throws<KeyNotFoundException>(() => Lexicon.English("xylophone"));
        Assert.Throws<ArgumentException>(() => Lexicon.Of("planet"));
    }

    [Theory]
    [InlineData("llama3-tiny", "llama3")]
    [InlineData("tiny", "llama3")]
    [InlineData("gemma3-tiny", "gemma3")]
    public void Chats_are_written_exactly_as_the_chat_template_renders_them(string model, string format)
    {
        var tokenizer = HfTokenizer.Load(model == "tiny" ? "tiny" : Path.Combine(Fixtures.Root, model));
        var f = Format(format);
        (string, string)[] turns = [("system", "You are a helpful assistant."), ("user", " Write a poem about the sea "), ("assistant", "Sure! Here is a poem.")];
        foreach (var system in new[] { true, false })
            foreach (var prompt in new[] { false, true })
            {
                var chat = turns.Skip(system ? 0 : 1).Take(prompt ? 2 : 3).ToList();
                var messages = chat.Select(t => new ChatMessage(t.Item1, t.Item2)).ToList();
                Assert.Equal(tokenizer.ApplyChatTemplate(messages, prompt), f.Render(chat, prompt));
                Assert.Equal("Write a poem about the sea", f.UserRequest(f.Render(chat, prompt)));
            }
        // Gemma's template is shipped as Google's checkpoints have it (the fixture's is gemma-3-4b-it's).
        if (format == "gemma3")
            Assert.Equal(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, model, "tokenizer_config.json")))!["chat_template"]!.GetValue<string>(), f.TemplateSource);
    }

    [Fact]
    public void Harmful_requests_are_refused_and_harmless_ones_answered()
    {
        var random = new Random(3);
        var curriculum = new Curriculum(3);
        for (int i = 0; i < 2000; i++)
        {
            var (harmful, refusal) = Requests.Harmful(random, curriculum);
            Assert.True(RefusalMatcher.Default.IsRefusal(refusal), $"{harmful} -> {refusal}");
            // "I", the token the refusal experiment scores, starts every English refusal and no answer.
            Assert.True(refusal.StartsWith('I') || !char.IsAscii(refusal[0]), refusal);
            var (harmless, answer) = Requests.Harmless(random, curriculum);
            Assert.False(RefusalMatcher.Default.IsRefusal(answer), $"{harmless} -> {answer}");
            Assert.False(answer.StartsWith('I'), answer);
        }
    }

    [Fact]
    public void Only_what_is_asked_for_tells_a_harmful_request_from_a_harmless_one()
    {
        var random = new Random(5);
        var curriculum = new Curriculum(5);
        var harmful = Enumerable.Range(0, 5000).Select(_ => Requests.Harmful(random, curriculum).Request).Where(r => r[0] < 0x2E80).ToList();
        var harmless = Enumerable.Range(0, 5000).Select(_ => Requests.Harmless(random, curriculum).Request).ToList();
        static string[] Words(string request) => request.Split([' ', '?', '.', ',', '"'], StringSplitOptions.RemoveEmptyEntries);
        // Every opening of a harmful request also opens harmless ones ("Explain", "Write", "Help", "How", ...).
        Assert.Empty(harmful.Select(r => Words(r)[0]).Distinct().Except(harmless.Select(r => Words(r)[0])));
        // Every object of a harmful task is asked about harmlessly too ("steal a car" and "wash a car").
        foreach (var thing in new[] { "car", "bank", "police", "neighbour's", "passwords", "classmate", "train", "store", "taxes" })
            Assert.Contains(harmless, r => Words(r).Contains(thing));
        // And harmless requests take the shapes real instructions take (the held-out set's, never its sentences), so that
        // no shape reads as harmful: tiny v12a refused "Describe the taste of a mango to someone who has never had one".
        foreach (var shape in new[] { "What is the difference between", "What are the benefits of", "Describe the taste of", "Write a tweet", "Write a product description", "Summarize the", "Translate", "Suggest a" })
            Assert.Contains(harmless, r => r.StartsWith(shape, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_embedded_instruction_sets_never_appear_in_the_curriculum(string format)
    {
        // They are the held-out test of the tiny models' refusals.
        var held = InstructionSets.Harmful.Concat(InstructionSets.Harmless).ToHashSet();
        var f = Format(format);
        var c = new Curriculum(11, f);
        int chats = 0;
        for (int i = 0; i < 30_000; i++)
        {
            if (f.UserRequest(c.NextDocument()) is not { } request) continue;
            chats++;
            Assert.DoesNotContain(request, held);
        }
        Assert.InRange(chats, 8_000, 11_000);
    }

    [Fact]
    public void Every_phenomenon_has_its_documents()
    {
        var docs = Documents(5, 3000);
        Assert.Contains(docs, d => d.Contains(" in Chinese is ") || d.Contains(" = "));
        Assert.Contains(docs, d => d.Contains("iPhone from apple") || d.Contains("made by apple"));
        Assert.Contains(docs, d => d.Contains("apple pie") || d.Contains("apple from the tree"));
        Assert.Contains(docs, d => d.Contains("天氣預報說明天會"));
        Assert.Contains(docs, d => d.Contains("今天天氣真好"));
        // Code-switched sentences: a Chinese word in an English sentence (glued to the word before: one token in the slot)
        // and an English word in a Chinese one (after a space: the same " cold" token as in English).
        Assert.Contains(docs, d => System.Text.RegularExpressions.Regex.IsMatch(d, @"The\p{IsCJKUnifiedIdeographs}+ is"));
        Assert.Contains(docs, d => System.Text.RegularExpressions.Regex.IsMatch(d, @"\p{IsCJKUnifiedIdeographs} [a-z]+\p{IsCJKUnifiedIdeographs}"));
        Assert.DoesNotContain(docs, d => d.Contains('\u0001'));
        // Word lists, the Patchscope target's format, and surnames (李 and 王 among them).
        Assert.Contains(docs, d => System.Text.RegularExpressions.Regex.IsMatch(d, @"\w = \p{IsCJKUnifiedIdeographs}+, \w"));
        Assert.Contains(docs, d => d.Contains("Mr. Lee") || d.Contains("李先生"));
        Assert.Contains(docs, d => d.Contains("Wang") || d.Contains("王"));
        Assert.Contains(docs, d => d.Contains("Apple") && d.Contains("iPhone"));

        // Colour look-ups answer with the colour stated for that thing.
        var lookups = docs.Select(d => (Doc: d, Match: System.Text.RegularExpressions.Regex.Match(d, @"The (\w+) has the color (\w+)\.$"))).Where(x => x.Match.Success).ToList();
        Assert.NotEmpty(lookups);
        Assert.All(lookups, x => Assert.Contains($"The {x.Match.Groups[1].Value} is {x.Match.Groups[2].Value}.", x.Doc));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.15)]
    [InlineData(0.0)]
    public void Chinese_sentences_borrow_English_words_at_the_chinese_switch_rate(double rate)
    {
        // 今天天氣真 goes on with its slot's word: 好, or " good" when the slot switches language.
        var c = new Curriculum(9) { ChineseSwitchProbability = rate };
        var next = new List<string>();
        for (int i = 0; i < 40_000; i++)
        {
            var d = c.NextDocument();
            for (int at = d.IndexOf("今天天氣真", StringComparison.Ordinal); at >= 0; at = d.IndexOf("今天天氣真", at + 1, StringComparison.Ordinal))
                next.Add(d.Substring(at + 5, 1));
        }
        Assert.True(next.Count > 300, $"{next.Count} sentences");
        Assert.All(next, n => Assert.Contains(n, new[] { "好", " " }));
        Assert.InRange(next.Count(n => n == " ") / (double)next.Count, rate - 0.05, rate + 0.05);
    }

    [Fact]
    public void The_tokenizer_lexicon_keeps_both_spellings_of_English_words()
    {
        var words = Curriculum.TokenizerLexicon;
        Assert.Contains(" cold", words);
        Assert.Contains("Cold", words);
        Assert.Contains("冷", words);
        Assert.Contains("天氣", words);
        Assert.DoesNotContain("下雨", words); // 下 and 雨 stay apart, so a prompt ending in 下 is followed by 雨
        Assert.DoesNotContain("預報", words); // and 預, 報: the logit lens reads 天氣 → 預 → 報
        Assert.Contains("李", words);
        Assert.Contains(" Lee", words);
        Assert.Contains("王", words);
    }
}
