using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Tests.Inspection;
using NotebookLens.Tokenization;
using NotebookLens.Views;

namespace NotebookLens.Tests.Cli;

/// <summary>
/// What each verb prints for a person is exactly the text view of its result (the one notebooks and reports show), the
/// result computed here through the core API on the same model: the CLI has no formatting of its own to drift apart.
/// </summary>
public sealed class CliViewTextTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    const string Colour = Prompts.Colour;

    /// <summary>A verb's arguments (on a fixture model, float32) and the text its result's views give through the core API.</summary>
    static readonly Dictionary<string, (string Model, string[] Args, Func<LensModel, string> Expected)> Cases = new()
    {
        ["info"] = ("gemma", ["info"], lens => ModelView.Create(lens.Config, lens.Parameters, lens.Ref, listParameters: false, engine: LensModel.Engine).Text),
        ["info --parameters"] = ("gemma", ["info", "--parameters"], lens => LensViews.ToText(lens)),
        ["tokenize"] = ("llama", ["tokenize", "--text", "大家好 apple\n"], lens => LensViews.ToText(lens.Prompt("大家好 apple\n"))),
        ["tokenize --no-special"] = ("gemma", ["tokenize", "--text", "大家好", "--no-special"], lens => LensViews.ToText(lens.Prompt("大家好", addSpecialTokens: false))),
        ["neighbors"] = ("gemma", ["neighbors", "--token", "▁apple", "--k", "3"], lens => LensViews.ToText(lens.Neighbors("▁apple", 3))),
        ["arithmetic"] = ("llama", ["arithmetic", "--expression", "冷 - cold + small", "--k", "4"], lens => LensViews.ToText(lens.Arithmetic("冷 - cold + small", 4))),
        ["similarity"] = ("gemma", ["similarity", "--word", "apple", "--sentence", "The apple is green.", "--sentence", "Apple makes the apple iPhone."],
            lens => LensViews.ToText(lens.Similarity("apple", "The apple is green.", "Apple makes the apple iPhone."))),
        ["lens"] = ("llama", ["lens", "--text", Colour, "--k", "2", "--target", "Ġgreen"],
            lens => LensViews.ToText(lens.LogitLens(Colour, new LogitLensOptions { TopK = 2, Targets = ["Ġgreen"] }))),
        ["lens --last"] = ("gemma", ["lens", "--text", Colour, "--last", "--no-final-norm"],
            lens => LensViews.ToText(lens.LogitLens(Colour, new LogitLensOptions { TopK = 3, LastPositionOnly = true, ApplyFinalNorm = false }))),
        ["neurons"] = ("gemma", ["neurons", "--text", Colour, "--layer", "1", "--k", "3"], lens => LensViews.ToText(lens.Neurons(Colour, 1, 3))),
        ["neurons --neuron"] = ("gemma", ["neurons", "--layer", "1", "--neuron", "7", "--prompt", "hello world", "--prompt", "good morning", "--k", "2"],
            lens => LensViews.ToText(lens.NeuronTokens(1, 7, ["hello world", "good morning"], 2))),
        ["pca"] = ("gemma", ["pca", "--layer", "3", "--text", "apple pie", "--text", "apple phone", "--text", "an apple split", "--word", "apple"],
            lens => LensViews.ToText(lens.Pca(3, ["apple pie", "apple phone", "an apple split"], "apple"))),
        ["patchscope"] = ("llama", ["patchscope", "--source", "The farmer picked a ripe apple", "--source-token", "apple", "--layers", "0,1", "--max-new-tokens", "3"],
            lens => LensViews.ToText(lens.Patchscope(new PatchscopeSource("The farmer picked a ripe apple") { Token = "apple" }, [0, 1], new PatchscopeOptions { MaxNewTokens = 3 }))),
        ["refusal"] = ("llama", ["refusal", "--layer", "1", "--n-train", "2", "--n-val", "2", "--n-test", "1", "--max-new-tokens", "2", "--kl-threshold", "none", "--steering-threshold", "none", "--prune-layers", "0"],
            lens => LensViews.ToText(lens.Refusal(new RefusalExperimentOptions
            {
                Layer = 1, TrainCount = 2, ValidationCount = 2, TestCount = 1, MaxNewTokens = 2,
                Thresholds = new SelectionThresholds { MaxKlDivergence = null, MinSteeringScore = null, PruneLayerFraction = 0 },
            }))),
        ["generate"] = ("gemma", ["generate", "--text", "The apple is", "--max-new-tokens", "6"],
            lens => LensViews.ToText(lens.Generate(lens.Prompt("The apple is"), new GenerationOptions { MaxNewTokens = 6 }))),
        ["generate --chat"] = ("llama", ["generate", "--text", "Hi", "--chat", "--system", "Be brief.", "--max-new-tokens", "5", "--temperature", "0.8", "--seed", "5"],
            lens => LensViews.ToText(lens.Generate(lens.ChatPrompt("Hi", "Be brief."), new GenerationOptions { MaxNewTokens = 5, Temperature = 0.8, Seed = 5 }))),
        // Several views: each under its title, as a report's text.
        ["attention"] = ("gemma", ["attention", "--text", Colour, "--from", "color", "--to", "green", "--layer", "5", "--head", "1"], lens =>
        {
            var maps = lens.Attention(Colour);
            return new HtmlReport($"attention: {Colour}").Add(AttentionView.Grid(maps)).Add(AttentionView.FirstToken(maps))
                .Add(AttentionView.TopHeads(maps, maps.Prompt.Locate("color"), maps.Prompt.Locate("green"))).Add(AttentionView.Head(maps, 5, 1)).ToText();
        }),
    };

    public static TheoryData<string> Verbs => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Verbs))]
    public void A_verb_prints_the_text_view_of_its_result(string verb)
    {
        var (model, args, expected) = Cases[verb];
        var (code, output, error) = CliRunner.Run([.. args, "--model", model == "llama" ? Fixtures.Llama : Fixtures.Gemma, .. args[0] is "tokenize" ? Array.Empty<string>() : ["--dtype", "float32"]]);
        Assert.True(code == 0, error);
        Assert.Equal(expected(lenses.Get(model)), output);
    }

    [Fact]
    public void Chat_prints_the_view_of_the_chat_prompt()
    {
        var messages = Path.Combine(Fixtures.TempDir(), "messages.json");
        File.WriteAllText(messages, """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "大家好"}]""");
        var (code, output, error) = CliRunner.Run("chat", "--model", Fixtures.Gemma, "--messages", messages, "--add-generation-prompt");
        Assert.True(code == 0, error);
        var prompt = lenses.Gemma.ChatPrompt([new ChatMessage("system", "Be brief."), new ChatMessage("user", "大家好")]);
        Assert.Equal(LensViews.ToText(prompt), output);
        Assert.StartsWith(prompt.Text, output);
    }
}
