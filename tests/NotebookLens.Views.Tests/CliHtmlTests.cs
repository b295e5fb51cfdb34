using NotebookLens.Cli;

namespace NotebookLens.Views.Tests;

/// <summary>The CLI's analysis verbs write their views as a report with <c>--html FILE</c>, their usual output unchanged.</summary>
[Collection(TinyCollection.Name)]
public class CliHtmlTests(TinyModel tiny)
{
    static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, TextReader.Null, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Lens_and_attention_write_their_views_with_html()
    {
        var lensPath = Path.Combine(Repo.Artifacts, "cli", "lens.html");
        var (code, output, error) = Run("lens", "--model", "tiny", "--text", "The weather is really", "--target", " good", "--html", lensPath);
        Assert.True(code == 0, error);
        Assert.Contains($"wrote {lensPath}", error);
        var expected = tiny.Lens.LogitLens("The weather is really", new Inspection.LogitLensOptions { TopK = 3, Targets = [" good"] });
        var cells = Dom.Parse(File.ReadAllText(lensPath)).QuerySelectorAll("table.nl-lens tbody tr:last-child td").Select(td => td.TextContent);
        Assert.Equal(expected.Top[^1].Select(p => Html.Pieces.TokenText(p[0].Text)), cells);
        Assert.Contains(" good", output);   // the text output is still there

        var attentionPath = Path.Combine(Repo.Artifacts, "cli", "attention.html");
        (code, _, error) = Run("attention", "--model", "tiny", "--text", "The ball is green. The ball has the color", "--from", "color", "--to", "green", "--html", attentionPath);
        Assert.True(code == 0, error);
        var doc = Dom.Parse(File.ReadAllText(attentionPath));
        Assert.Equal(tiny.Lens.Config.NumLayers * tiny.Lens.Config.NumHeads, doc.QuerySelectorAll(".nl-attention-grid img").Length);
        Assert.Equal(["Attention heads", "Attention to the first token", "Heads attending from ·color (token 10) to ·green (token 4)"],
            doc.QuerySelectorAll("section > h2").Select(h => h.TextContent));
    }

    [Fact]
    public void Html_is_an_option_of_the_analysis_verbs_only()
    {
        var (code, _, error) = Run("tokenize", "--model", "tiny", "--text", "hi", "--html", Path.Combine(Repo.Artifacts, "cli", "no.html"));
        Assert.Equal(2, code);
        Assert.Contains("--html", error);
    }
}
