using System.Globalization;
using System.Text.RegularExpressions;
using NotebookLens.Inspection;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// notebooks/03-logit-lens: each lens table held to the logit lens computed here on tiny, and the effects the text
/// tells the student to look for.
/// </summary>
public sealed class Notebook03Checks(NotebookRuns runs) : NotebookChecks(runs)
{
    protected override string Notebook => "03-logit-lens";

    static LogitLensResult Lens(string text, bool finalNorm = true, params string[] targets) =>
        Tiny.LogitLens(text, new LogitLensOptions { TopK = 3, ApplyFinalNorm = finalNorm, Targets = targets });

    static string F2(double x) => x.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Top token of the last position per row, from the result.</summary>
    static IEnumerable<LensPrediction> LastColumn(LogitLensResult lens) => lens.Top.Select(row => row[^1][0]);

    /// <summary>The lens view's text: each row ends with the last position's top token and its probability.</summary>
    static void AssertLastColumn(string text, LogitLensResult lens)
    {
        var rows = lens.LayerLabels.Zip(LastColumn(lens));
        foreach (var (label, top) in rows)
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s.*\s{Regex.Escape(top.Text.TrimStart())} {F2(top.Probability)}\s*$", text);
    }

    /// <summary>The rank of a token at the last position per row, from the result's targets.</summary>
    static IEnumerable<int> Ranks(LogitLensResult lens, string target) => lens.Targets[target].Select(row => row[^1].Rank);

    /// <summary>The row of block 6, where the text says tiny's lens turns Chinese (row 0 is the embeddings).</summary>
    static int RowOfBlock6(LogitLensResult lens) => Enumerable.Range(0, lens.LayerLabels.Count).Single(r => lens.LayerLabels[r] == "6");

    /// <summary>
    /// The text's turn: the last position's top token is <paramref name="english"/> in blocks 0 to 5 and
    /// <paramref name="chinese"/> from block 6 to the last, where <paramref name="english"/> is second if the text says so.
    /// </summary>
    static void AssertEnglishThenChinese(LogitLensResult lens, string english, string chinese, bool englishSecond = false)
    {
        var column = lens.Top.Select(row => row[^1]).ToList();
        string Shown() => string.Join(" | ", lens.LayerLabels.Zip(column, (l, c) => $"{l}: {string.Join(",", c.Select(p => p.Text))}"));
        int six = RowOfBlock6(lens);
        for (int row = 1; row < six; row++) Assert.True(column[row][0].Text == english, Shown());
        for (int row = six; row < column.Count; row++) Assert.True(column[row][0].Text == chinese && (!englishSecond || column[row][1].Text == english), Shown());
    }

    [Theory, Runners]
    public async Task After_tianqi_forecast_turns_into_yu_at_block_6_and_the_lens_by_hand_agrees(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣", true, " weather", " forecast");
        AssertLastColumn(notebook.Cell("weather").Text, lens);
        // The text: " forecast" close to 1.00 in blocks 0-5, 預 at 0.8 to 0.86 from block 6, " weather" at ranks 7 to 10 in
        // blocks 0-5 and beyond 100 after.
        AssertEnglishThenChinese(lens, " forecast", "預", englishSecond: true);
        int six = RowOfBlock6(lens);
        Assert.All(LastColumn(lens).Skip(1).Take(six - 1), top => Assert.True(top.Probability > 0.95, $"{top.Text} {top.Probability:F2}"));
        Assert.All(LastColumn(lens).Skip(six), top => Assert.True(top.Probability is > 0.75 and < 0.9, $"{top.Text} {top.Probability:F2}"));
        Assert.Equal([.. Enumerable.Repeat(1, six - 1), .. Enumerable.Repeat(2, lens.LayerLabels.Count - six)], Ranks(lens, " forecast").Skip(1));
        Assert.All(Ranks(lens, " weather").Skip(1).Take(six - 1), rank => Assert.InRange(rank, 7, 10));
        Assert.All(Ranks(lens, " weather").Skip(six), rank => Assert.True(rank > 100, $"' weather' at rank {rank}"));
        var byHand = notebook.Cell("weather-cs").Text;
        foreach (var (label, top) in lens.LayerLabels.Zip(LastColumn(lens)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(top.Text)} {F2(top.Probability)}\s+{Regex.Escape(top.Text)}$", byHand);
    }

    [Theory, Runners]
    public async Task After_tianqi_yu_forecast_turns_into_a_certain_bao(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣預");
        AssertLastColumn(notebook.Cell("forecast").Text, lens);
        AssertEnglishThenChinese(lens, " forecast", "報");
        Assert.All(LastColumn(lens).Skip(RowOfBlock6(lens)), top => Assert.True(top.Probability > 0.99, $"{top.Text} {top.Probability:F3}"));
    }

    [Theory, Runners]
    public async Task The_lens_of_jintian_tianqi_zhen_says_good_up_to_block_5_and_hao_after(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("今天天氣真", true, " good", " beautiful");
        AssertLastColumn(notebook.Cell("good").Text, lens);
        AssertEnglishThenChinese(lens, " good", "好", englishSecond: true);
        int six = RowOfBlock6(lens);
        Assert.All(LastColumn(lens).Skip(1).Take(six - 1), top => Assert.True(top.Probability > 0.98, $"{top.Text} {top.Probability:F3}"));
        Assert.All(LastColumn(lens).Skip(six), top => Assert.True(top.Probability is > 0.65 and < 0.8, $"{top.Text} {top.Probability:F2}"));
        Assert.All(Ranks(lens, " beautiful").Skip(1), rank => Assert.True(rank > 10, $"' beautiful' at rank {rank}"));
        var good = lens.Targets[" good"];
        var lines = notebook.Cell("good-cs").Text;
        for (int row = 0; row < lens.LayerLabels.Count; row++)
            Assert.Contains($"{lens.LayerLabels[row],-6} top: {lens.Top[row][^1][0].Text}   ' good': rank {good[row][^1].Rank},", lines.Replace("\r", ""));
    }

    [Theory, Runners]
    public async Task The_english_sentences_have_the_weather_in_the_middle_and_the_chinese_one_turns_to_yu(Runner runner)
    {
        var notebook = await Executed(runner);
        var really = Lens("The weather is really");
        var rain = Lens("The weather forecast says it will", true, " rain");
        var chinese = Lens("天氣預報說明天會下");
        AssertLastColumn(notebook.Cell("english-really").Text, really);
        AssertLastColumn(notebook.Cell("english-rain").Text, rain);
        AssertLastColumn(notebook.Cell("chinese-rain").Text, chinese);
        int six = RowOfBlock6(really);
        // "The weather is really": " good" in blocks 0-5, then " good" and 好 sharing the top, each close to 0.5.
        Assert.All(LastColumn(really).Skip(1).Take(six - 1), top => Assert.Equal(" good", top.Text));
        Assert.All(really.Top.Skip(six), row => Assert.True(row[^1].Take(2).Select(p => p.Text).Order(StringComparer.Ordinal).SequenceEqual([" good", "好"])
            && row[^1].Take(2).All(p => p.Probability is > 0.4 and < 0.6), string.Join(", ", row[^1].Select(p => $"{p.Text} {p.Probability:F2}"))));
        Assert.Equal([.. Enumerable.Repeat(" rain", six - 1), .. Enumerable.Repeat(" be", rain.LayerLabels.Count - six)], LastColumn(rain).Skip(1).Select(t => t.Text));
        Assert.All(rain.Top.Skip(1).Take(six - 1), row => Assert.Contains(" snow", row[^1].Take(3).Select(p => p.Text)));
        Assert.All(Ranks(rain, " rain").Skip(six), rank => Assert.Equal(2, rank));
        AssertEnglishThenChinese(chinese, " rain", "雨");
    }

    [Theory, Runners]
    public async Task Without_the_final_norm_most_top_tokens_stay_and_the_probabilities_change(Runner runner)
    {
        var notebook = await Executed(runner);
        AssertLastColumn(notebook.Cell("norm-off").Text, Lens("今天天氣真", finalNorm: false));
        // Counted as the cell counts them, on lenses of the top token only: where two tokens are close, a tie's order
        // can depend on how many top tokens are asked for.
        LogitLensResult Top1(bool finalNorm) => Tiny.LogitLens("今天天氣真", new LogitLensOptions { TopK = 1, ApplyFinalNorm = finalNorm });
        var (with1, without1) = (Top1(true), Top1(false));
        int cells = with1.Top.Sum(row => row.Length);
        int differ = with1.Top.Zip(without1.Top).Sum(rows => rows.First.Zip(rows.Second).Count(c => c.First[0].Id != c.Second[0].Id));
        Assert.Equal(1, differ);   // the text: one of the 44
        Assert.Equal(LastColumn(with1).Select(t => t.Id), LastColumn(without1).Select(t => t.Id));   // the same top tokens at the last position
        var table = notebook.Cell("norm-cs").Text;
        Assert.Contains($"{differ} of {cells} cells have a different top token without the final norm", table);
        foreach (var ((label, a), b) in with1.LayerLabels.Zip(LastColumn(with1)).Zip(LastColumn(without1)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(a.Text)}\s+{F2(a.Probability)}\s+{Regex.Escape(b.Text)}\s+{F2(b.Probability)}\s+{F2(b.Probability)}$", table);
    }
}
