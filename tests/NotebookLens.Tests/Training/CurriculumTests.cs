using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;

namespace NotebookLens.Tests.Training;

public sealed class CurriculumTests
{
    static List<string> Documents(int seed, int count)
    {
        var c = new Curriculum(seed);
        return Enumerable.Range(0, count).Select(_ => c.NextDocument()).ToList();
    }

    [Fact]
    public void The_same_seed_gives_the_same_documents()
    {
        Assert.Equal(Documents(7, 300), Documents(7, 300));
        Assert.NotEqual(Documents(7, 300), Documents(8, 300));
        Assert.All(Documents(7, 300), d => Assert.StartsWith(Curriculum.Bos, d));
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
    [InlineData("llama3-tiny")]
    [InlineData("tiny")]
    public void Chats_are_written_exactly_as_the_chat_template_renders_them(string model)
    {
        var tokenizer = HfTokenizer.Load(model == "tiny" ? "tiny" : Path.Combine(Fixtures.Root, model));
        (string, string)[] turns = [("system", "You are a helpful assistant."), ("user", " Write a poem about the sea "), ("assistant", "Sure! Here is a poem.")];
        foreach (var prompt in new[] { false, true })
        {
            var messages = turns.Take(prompt ? 2 : 3).Select(t => new ChatMessage(t.Item1, t.Item2)).ToList();
            Assert.Equal(tokenizer.ApplyChatTemplate(messages, prompt), Curriculum.Render(turns.Take(prompt ? 2 : 3), prompt));
        }
    }

    [Fact]
    public void Harmful_requests_are_refused_and_harmless_ones_answered()
    {
        var random = new Random(3);
        var curriculum = new Curriculum(3);
        for (int i = 0; i < 2000; i++)
        {
            var (harmful, refusal) = Requests.Harmful(random);
            Assert.True(RefusalMatcher.Default.IsRefusal(refusal), $"{harmful} -> {refusal}");
            // "I", the token the refusal experiment scores, starts every English refusal and no answer.
            Assert.True(refusal.StartsWith('I') || !char.IsAscii(refusal[0]), refusal);
            var (harmless, answer) = Requests.Harmless(random, curriculum);
            Assert.False(RefusalMatcher.Default.IsRefusal(answer), $"{harmless} -> {answer}");
            Assert.False(answer.StartsWith('I'), answer);
        }
    }

    [Fact]
    public void The_embedded_instruction_sets_never_appear_in_the_curriculum()
    {
        // They are the held-out test of the tiny model's refusals.
        var held = InstructionSets.Harmful.Concat(InstructionSets.Harmless).ToHashSet();
        var c = new Curriculum(11);
        for (int i = 0; i < 30_000; i++)
        {
            var doc = c.NextDocument();
            int user = doc.IndexOf("user" + Curriculum.EndHeader, StringComparison.Ordinal);
            if (user < 0) continue;
            int start = user + ("user" + Curriculum.EndHeader).Length + 2;
            var request = doc[start..doc.IndexOf(Curriculum.EndOfTurn, start, StringComparison.Ordinal)];
            Assert.DoesNotContain(request, held);
        }
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
