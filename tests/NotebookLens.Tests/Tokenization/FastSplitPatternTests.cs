using System.Text;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Tokenization;

public class FastSplitPatternTests
{
    const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Characters from every class the pattern distinguishes, astral ones and a lone surrogate included.</summary>
    static readonly string[] Alphabet =
    [
        "a", "Z", "s", "S", "t", "r", "e", "v", "m", "l", "d", "ſ", "'", "é", "大", "𝔘", "ǅ", "ʰ", "\u0301",
        "1", "9", "٣", "𝟙", "Ⅻ", "²", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00A0", "\u3000", "\u2028", "\u0085", "\u000B",
        "!", ".", ",", "?", "-", "_", "(", "$", "+", "©", "🍎", "👨‍👩", "\u200D", "\uFEFF", "\u0000", "\u007F", "\uD800",
    ];

    [Theory]
    [InlineData(Llama3)]
    [InlineData(Qwen2)]
    public void Scanner_agrees_with_the_regex_on_random_text(string pattern)
    {
        var fast = FastSplitPattern.For(pattern)!;
        var regex = new UnicodeRegex(pattern);
        var random = new Random(20261128);
        for (int trial = 0; trial < 3000; trial++)
        {
            var sb = new StringBuilder();
            int length = random.Next(1, 24);
            for (int i = 0; i < length; i++) sb.Append(Alphabet[random.Next(Alphabet.Length)]);
            var text = sb.ToString();
            Assert.True(regex.Matches(text).SequenceEqual(fast.Matches(text)),
                $"differs on \"{string.Concat(text.Select(c => c < 128 && !char.IsControl(c) ? c.ToString() : $"\\u{(int)c:X4}"))}\"");
        }
    }

    [Fact]
    public void Only_known_patterns_get_a_scanner()
    {
        Assert.NotNull(FastSplitPattern.For(Llama3));
        Assert.Null(FastSplitPattern.For(@"\p{L}+"));
    }
}
