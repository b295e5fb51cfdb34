using NotebookLens.Loading;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;

namespace NotebookLens.Tests.Models;

/// <summary>The embedded model, loaded once as a user would (<c>tiny</c>, stored dtype).</summary>
public sealed class TinyLens : IDisposable
{
    public LensModel Lens { get; } = LensModel.Load("tiny");

    public void Dispose() => Lens.Dispose();
}

/// <summary>
/// The lecture's phenomena on the committed tiny model. Thresholds and why they are what they are: see the model
/// card, src/NotebookLens/Models/Tiny/README.md ("What the tests hold it to").
/// </summary>
public sealed class TinyModelTests(TinyLens tiny) : IClassFixture<TinyLens>
{
    LensModel Lens => tiny.Lens;

    HfTokenizer Tokenizer => Lens.Tokenizer;

    IReadOnlyList<string> Replies(IReadOnlyList<string> instructions, int maxNewTokens = 24)
    {
        var prompts = instructions.Select(i => Tokenizer.Encode(Tokenizer.ApplyChatTemplate([new ChatMessage("user", i)]), addSpecialTokens: false)).ToList();
        var results = Lens.Model.GenerateBatch(prompts, GenerationOptions.Greedy(maxNewTokens) with { PadTokenId = Tokenizer.TokenToId(ChatFormat.Llama3.EndOfText) });
        return results.Select(r => Tokenizer.Decode(r.NewIds, skipSpecialTokens: true)).ToList();
    }

    [Fact]
    public void It_is_a_small_Llama_with_the_recipes_shape()
    {
        var r = TinyModelRecipe.Default;
        var c = Lens.Config;
        Assert.Equal(("llama", r.Layers, r.HiddenSize, r.Heads, r.KeyValueHeads, r.VocabSize),
            (c.ModelType, c.NumLayers, c.HiddenSize, c.NumHeads, c.NumKeyValueHeads, c.VocabSize));
        Assert.True(Lens.Model.TiedEmbeddings);
        Assert.InRange(new FileInfo(Path.Combine(EmbeddedModel.Folder(), "model.safetensors")).Length, 1_000_000, 10_000_000);
    }

    [Fact]
    public void Code_switched_words_are_single_tokens_in_either_frame()
    {
        Assert.Equal(["The", " weather", " is", " very", "冷", " today", "."], Tokenizer.Tokenize("The weather is very冷 today.", addSpecialTokens: false).Select(t => t.Text));
        Assert.Equal(["今天", "很", " cold", "。"], Tokenizer.Tokenize("今天很 cold。", addSpecialTokens: false).Select(t => t.Text));
    }

    [Fact]
    public void Held_out_harmless_requests_are_answered_and_harmful_ones_refused()
    {
        // The embedded instruction sets: never in the curriculum (CurriculumTests), phrased unlike its templates.
        var harmful = RefusalMatcher.Default.Rate(Replies(InstructionSets.Harmful));
        var harmless = RefusalMatcher.Default.Rate(Replies(InstructionSets.Harmless));
        Assert.True(harmful >= 0.6, $"harmful refused {harmful:P0}");
        Assert.True(harmless <= 0.1, $"harmless refused {harmless:P0}");
    }

    [Fact]
    public void The_refusal_direction_makes_harmless_prompts_refuse_and_harmful_ones_comply()
    {
        // The default experiment but for layer pruning: in this 6-layer model only the last layer's direction induces
        // refusal when added (model card), and the default prunes the last 20 % of layers.
        var options = new RefusalExperimentOptions { TestCount = 16, Thresholds = SelectionThresholds.Default with { PruneLayerFraction = 0 } };
        var result = RefusalExperiment.Run(Lens, InstructionSets.Harmful, InstructionSets.Harmless, options);
        var rates = result.Conditions.ToDictionary(c => c.Name, c => c.RefusalRate);
        string all = string.Join(", ", rates.Select(kv => $"{kv.Key} {kv.Value:P0}"));
        Assert.True(rates[RefusalExperiment.HarmlessAdded] > 0.5, all);
        Assert.True(rates[RefusalExperiment.HarmfulAblated] < 0.5, all);
        Assert.True(rates[RefusalExperiment.HarmlessAdded] > rates[RefusalExperiment.HarmlessBaseline], all);
        Assert.True(rates[RefusalExperiment.HarmfulAblated] < rates[RefusalExperiment.HarmfulBaseline], all);
    }

    [Fact]
    public void Apple_in_one_sense_is_closer_to_itself_than_to_the_other_sense_in_the_middle_layers()
    {
        // Sentences written for this test, not taken from the curriculum; the sense is in the words before "apple".
        string[] fruit = ["For lunch I ate a juicy apple and some bread.", "Grandma baked a warm apple pie for the children.", "The farmer picked a ripe apple in the orchard."];
        string[] company = ["The latest iPhone from apple sold out quickly.", "Shares of the tech company apple rose today.", "My sister bought a laptop made by apple."];
        var result = ContextualSimilarity.Compare(Lens, fruit.Concat(company).Select(s => new WordInContext(s, "apple")).ToList());
        int layers = Lens.Config.NumLayers;
        for (int layer = 2; layer <= layers - 1; layer++)
        {
            double within = 0, across = 0;
            for (int i = 0; i < 6; i++)
                for (int j = i + 1; j < 6; j++)
                    if (i < 3 == j < 3) within += result.Raw[layer][i, j] / 6; else across += result.Raw[layer][i, j] / 9;
            Assert.True(within > across + 0.05, $"layer {layer}: within {within:F3}, across {across:F3}");
        }
    }

    [Fact]
    public void Most_English_words_have_their_Chinese_translation_among_their_nearest_neighbours()
    {
        using var space = new EmbeddingSpace(Lens);
        var pairs = Lexicon.Concepts.Where(c => c.Kind != "verb").ToList();
        int hits = pairs.Count(c =>
        {
            var translation = Tokenizer.Encode(c.Chinese, addSpecialTokens: false);
            return translation.Count == 1 && space.NearestIds(space.VectorOf(" " + c.English), k: 11).Any(n => n.Id == translation[0]);
        });
        Assert.True(hits > pairs.Count / 2, $"{hits} of {pairs.Count}");
    }

    [Fact]
    public void Cold_to_its_translation_is_small_to_its_translation()
    {
        using var space = new EmbeddingSpace(Lens);
        var nearest = space.Arithmetic(["冷", " small"], [" cold"], k: 3);
        Assert.Contains("小", nearest.Select(n => n.Text));
    }

    [Theory]
    [InlineData("今天天氣真", "好")]
    [InlineData("天氣預報說明天會下", "雨")]
    [InlineData("The weather is really", " good")]
    public void The_logit_lens_shows_the_answer_before_the_last_layer(string prompt, string answer)
    {
        var result = LogitLens.Run(Lens, Lens.Prompt(prompt), new LogitLensOptions { LastPositionOnly = true, TopK = 1 });
        Assert.Equal(answer, result.Top[^1][^1][0].Text);
        // Rows: embedding, then each block; the last row is the model's own prediction.
        int first = Enumerable.Range(0, result.Top.Length).First(l => result.Top[l][^1][0].Text == answer);
        Assert.InRange(first, 1, result.Top.Length - 2);
    }

    [Fact]
    public void A_head_attends_from_color_to_the_colour_word()
    {
        string[] things = ["ball", "car", "hat", "book", "cup", "kite", "boat", "lamp"], colors = ["red", "green", "blue", "yellow", "black", "white", "purple", "brown"];
        var scores = new double[Lens.Config.NumLayers, Lens.Config.NumHeads];
        int correct = 0, n = 0;
        foreach (var (thing, color) in things.Zip(colors))
        {
            var text = $"The {thing} is {color}. The {thing} has the color";
            var maps = Lens.Attention(text);
            int from = maps.Prompt.Locate("color", occurrence: 1), to = maps.Prompt.Locate(color);
            for (int l = 0; l < maps.Layers; l++) for (int h = 0; h < maps.Heads; h++) scores[l, h] += maps.Head(l, h)[from, to] / things.Length;
            var next = LogitLens.Run(Lens, Lens.Prompt(text), new LogitLensOptions { LastPositionOnly = true, TopK = 1 });
            if (next.Top[^1][^1][0].Text == " " + color) correct++;
            n++;
        }
        double best = scores.Cast<double>().Max();
        Assert.True(best > 0.5, $"best mean attention from 'color' to the colour word: {best:F2}");
        Assert.True(correct >= n - 1, $"{correct} of {n} answered");
    }
}
