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

    [Theory, Runners]
    public async Task After_tianqi_every_block_predicts_yu_with_forecast_second_and_the_lens_by_hand_agrees(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣", true, " weather", " forecast");
        AssertLastColumn(notebook.Cell("weather").Text, lens);
        // The text: 預 from block 0 on at 0.5 to 0.7, " forecast" second in every row, " weather" never near the top.
        Assert.All(LastColumn(lens).Skip(1), top => Assert.True(top.Text == "預" && top.Probability is > 0.45 and < 0.75, $"{top.Text} {top.Probability:F2}"));
        Assert.All(Ranks(lens, " forecast").Skip(1), rank => Assert.Equal(2, rank));
        Assert.All(Ranks(lens, " weather").Skip(1), rank => Assert.True(rank > 10, $"' weather' at rank {rank}"));
        var byHand = notebook.Cell("weather-cs").Text;
        foreach (var (label, top) in lens.LayerLabels.Zip(LastColumn(lens)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(top.Text)} {F2(top.Probability)}\s+{Regex.Escape(top.Text)}$", byHand);
    }

    [Theory, Runners]
    public async Task After_tianqi_yu_every_block_is_certain_of_bao(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣預");
        AssertLastColumn(notebook.Cell("forecast").Text, lens);
        Assert.All(LastColumn(lens).Skip(1), top => Assert.True(top.Text == "報" && top.Probability > 0.99, $"{top.Text} {top.Probability:F3}"));
    }

    [Theory, Runners]
    public async Task The_lens_of_jintian_tianqi_zhen_has_good_first_and_hao_second_in_every_block(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("今天天氣真", true, " good", " beautiful");
        AssertLastColumn(notebook.Cell("good").Text, lens);
        Assert.All(lens.Top.Skip(1), row => Assert.Equal([" good", "好"], row[^1].Take(2).Select(p => p.Text)));
        Assert.All(Ranks(lens, " beautiful").Skip(1), rank => Assert.True(rank > 10, $"' beautiful' at rank {rank}"));
        var good = lens.Targets[" good"];
        var lines = notebook.Cell("good-cs").Text;
        for (int row = 0; row < lens.LayerLabels.Count; row++)
            Assert.Contains($"{lens.LayerLabels[row],-6} top: {lens.Top[row][^1][0].Text}   ' good': rank {good[row][^1].Rank},", lines.Replace("\r", ""));
    }

    [Theory, Runners]
    public async Task The_english_forecast_turns_from_not_to_be_with_rain_close_behind(Runner runner)
    {
        var notebook = await Executed(runner);
        var really = Lens("The weather is really");
        var rain = Lens("The weather forecast says it will", true, " rain");
        var chinese = Lens("天氣預報說明天會下");
        AssertLastColumn(notebook.Cell("english-really").Text, really);
        AssertLastColumn(notebook.Cell("english-rain").Text, rain);
        AssertLastColumn(notebook.Cell("chinese-rain").Text, chinese);
        Assert.All(really.Top.Skip(1), row => Assert.Equal([" good", "好"], row[^1].Take(2).Select(p => p.Text).Order(StringComparer.Ordinal)));
        Assert.Equal([" not", " not", " snow", .. Enumerable.Repeat(" be", rain.LayerLabels.Count - 4)], LastColumn(rain).Skip(1).Select(t => t.Text));
        Assert.All(Ranks(rain, " rain").Skip(3), rank => Assert.Equal(2, rank));
        Assert.All(LastColumn(chinese).Skip(1), top => Assert.Equal("雨", top.Text));
    }

    [Theory, Runners]
    public async Task Without_the_final_norm_most_top_tokens_stay_and_the_probabilities_change(Runner runner)
    {
        var notebook = await Executed(runner);
        AssertLastColumn(notebook.Cell("norm-off").Text, Lens("今天天氣真", finalNorm: false));
        // Counted as the cell counts them, on lenses of the top token only: at block 6 ' good' and 好 tie without the norm,
        // and a tie's order can depend on how many top tokens are asked for.
        LogitLensResult Top1(bool finalNorm) => Tiny.LogitLens("今天天氣真", new LogitLensOptions { TopK = 1, ApplyFinalNorm = finalNorm });
        var (with1, without1) = (Top1(true), Top1(false));
        int cells = with1.Top.Sum(row => row.Length);
        int differ = with1.Top.Zip(without1.Top).Sum(rows => rows.First.Zip(rows.Second).Count(c => c.First[0].Id != c.Second[0].Id));
        Assert.InRange(differ, 1, cells / 8);   // the text: a few cells differ
        var table = notebook.Cell("norm-cs").Text;
        Assert.Contains($"{differ} of {cells} cells have a different top token without the final norm", table);
        foreach (var ((label, a), b) in with1.LayerLabels.Zip(LastColumn(with1)).Zip(LastColumn(without1)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(a.Text)}\s+{F2(a.Probability)}\s+{Regex.Escape(b.Text)}\s+{F2(b.Probability)}\s+{F2(b.Probability)}$", table);
    }
}
