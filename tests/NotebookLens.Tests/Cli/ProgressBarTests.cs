using NotebookLens.Cli;
using NotebookLens.Runtime;

namespace NotebookLens.Tests.Cli;

public sealed class ProgressBarTests
{
    [Fact]
    public void The_live_line_shows_stage_bar_count_and_time_left()
    {
        var line = ProgressBar.Line(new LensProgress("score candidates", 15, 60, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(75), "candidates", "position -1, layer 3"));
        Assert.Equal("score candidates [######------------------] 15/60 candidates  1:15 left  position -1, layer 3", line);
    }

    [Fact]
    public void A_log_gets_one_line_per_finished_stage()
    {
        var error = new StringWriter();
        var bar = new ProgressBar(error, live: false);
        bar.Report(new LensProgress("generate", 0, 4, TimeSpan.Zero, null, "completions"));
        bar.Report(new LensProgress("generate", 4, 4, TimeSpan.FromSeconds(2.5), TimeSpan.Zero, "completions"));
        Assert.Equal("generate: 4 completions in 2.5 s" + Environment.NewLine, error.ToString());
    }

    [Fact]
    public void The_refusal_verb_reports_its_stages()
    {
        var (code, _, err) = CliRunner.Run("refusal", "--model", Fixtures.Llama, "--n-train", "2", "--n-val", "2", "--n-test", "1",
            "--max-new-tokens", "2", "--prune-layers", "0", "--kl-threshold", "none", "--steering-threshold", "none", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("score candidates: 10 candidates in", err);
        Assert.Contains("generate: 4 completions in", err);
    }
}
