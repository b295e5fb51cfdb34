using System.Globalization;
using System.Text.RegularExpressions;
using NotebookLens.Inspection;

namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// notebooks/03-logit-lens: each lens table held to the logit lens computed here on tiny, and the effects the text
/// tells the student to look for (and the ones it says tiny does not show).
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

    [Theory, Runners]
    public async Task After_tianqi_every_block_predicts_the_forecast_and_the_lens_by_hand_agrees(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣", true, " weather", " forecast");
        AssertLastColumn(notebook.Cell("weather").Text, lens);
        // The text: 預報 from block 0 on, at about 0.9 or more; the English words never near the top.
        Assert.All(LastColumn(lens).Skip(1), top => Assert.True(top.Text == "預報" && top.Probability > 0.85, $"{top.Text} {top.Probability:F2}"));
        Assert.All(lens.Targets.Values.SelectMany(t => t.Skip(1)), rank => Assert.True(rank[^1].Rank > 10, $"an English word at rank {rank[^1].Rank}"));
        var byHand = notebook.Cell("weather-cs").Text;
        foreach (var (label, top) in lens.LayerLabels.Zip(LastColumn(lens)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(top.Text)} {F2(top.Probability)}\s+{Regex.Escape(top.Text)}$", byHand);
    }

    [Theory, Runners]
    public async Task Tiny_cannot_complete_the_forecast(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("天氣預");
        AssertLastColumn(notebook.Cell("forecast").Text, lens);
        Assert.DoesNotContain(LastColumn(lens), top => top.Text.Contains('報'));
    }

    [Theory, Runners]
    public async Task The_lens_of_jintian_tianqi_zhen_ends_in_hao_with_good_second(Runner runner)
    {
        var notebook = await Executed(runner);
        var lens = Lens("今天天氣真", true, " good", " beautiful");
        AssertLastColumn(notebook.Cell("good").Text, lens);
        Assert.All(LastColumn(lens).Skip(1), top => Assert.Equal("好", top.Text));
        var good = lens.Targets[" good"];
        var lines = notebook.Cell("good-cs").Text;
        for (int row = 0; row < lens.LayerLabels.Count; row++)
        {
            Assert.Contains($"{lens.LayerLabels[row],-6} top: {lens.Top[row][^1][0].Text}   ' good': rank {good[row][^1].Rank},", lines.Replace("\r", ""));
            if (row >= 3) Assert.Equal(2, good[row][^1].Rank);   // the text: second from block 2 (row 3) to the end
        }
    }

    [Theory, Runners]
    public async Task The_english_forecast_turns_from_be_to_rain_in_the_upper_blocks(Runner runner)
    {
        var notebook = await Executed(runner);
        var really = Lens("The weather is really");
        var rain = Lens("The weather forecast says it will", true, " rain");
        var chinese = Lens("天氣預報說明天會下");
        AssertLastColumn(notebook.Cell("english-really").Text, really);
        AssertLastColumn(notebook.Cell("english-rain").Text, rain);
        AssertLastColumn(notebook.Cell("chinese-rain").Text, chinese);
        Assert.All(LastColumn(really).Skip(1), top => Assert.Equal(" good", top.Text));
        Assert.Equal([" be", " be", " be", " be", " rain", " rain"], LastColumn(rain).Skip(1).Select(t => t.Text));
        Assert.All(rain.Targets[" rain"].Skip(1).Take(4), rank => Assert.Equal(2, rank[^1].Rank));
        Assert.All(LastColumn(chinese).Skip(1), top => Assert.Equal("雨", top.Text));
    }

    [Theory, Runners]
    public async Task Without_the_final_norm_the_top_tokens_stay_and_the_probabilities_change(Runner runner)
    {
        var notebook = await Executed(runner);
        var with = Lens("今天天氣真");
        var without = Lens("今天天氣真", finalNorm: false);
        AssertLastColumn(notebook.Cell("norm-off").Text, without);
        int cells = with.Top.Sum(row => row.Length);
        int differ = with.Top.Zip(without.Top).Sum(rows => rows.First.Zip(rows.Second).Count(c => c.First[0].Id != c.Second[0].Id));
        Assert.Equal(0, differ);   // the text says: the same top tokens in every cell
        var table = notebook.Cell("norm-cs").Text;
        Assert.Contains($"{differ} of {cells} cells have a different top token without the final norm", table);
        foreach (var ((label, a), b) in with.LayerLabels.Zip(LastColumn(with)).Zip(LastColumn(without)))
            Assert.Matches($@"(?m)^{Regex.Escape(label)}\s+{Regex.Escape(a.Text)}\s+{F2(a.Probability)}\s+{Regex.Escape(b.Text)}\s+{F2(b.Probability)}\s+{F2(b.Probability)}$", table);
    }
}
