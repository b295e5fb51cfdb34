using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using NotebookLens.Training;

using static TorchSharp.torch;

namespace NotebookLens.Tests.Training;

public sealed class LatentEnglishTests
{
    public LatentEnglishTests() => TorchRuntime.EnsureLoaded();

    static int Id(HfTokenizer tokenizer, string text) => Assert.Single(tokenizer.Encode(text, addSpecialTokens: false));

    [Fact]
    public void A_chinese_lexicon_token_asks_for_its_english_word_and_every_other_token_for_nothing()
    {
        var tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());
        var latent = LatentEnglish.For(tokenizer);
        Assert.Equal(Id(tokenizer, " cold"), latent.EnglishOf(Id(tokenizer, "冷")));
        Assert.Equal(Id(tokenizer, " good"), latent.EnglishOf(Id(tokenizer, "好")));
        // Every token of a word stands for it (預報: two tokens in the curriculum's tokenizers, as in Llama 3's).
        var forecast = tokenizer.Encode("預報", addSpecialTokens: false);
        Assert.All(forecast, id => Assert.Equal(Id(tokenizer, " forecast"), latent.EnglishOf(id)));
        Assert.Equal(LatentEnglish.None, latent.EnglishOf(Id(tokenizer, " cold")));
        Assert.Equal(LatentEnglish.None, latent.EnglishOf(Id(tokenizer, "。")));
        // Targets looks each next token up.
        var next = new long[] { Id(tokenizer, "冷"), Id(tokenizer, " cold"), forecast[^1], Id(tokenizer, "。") };
        using var targets = latent.Targets(tensor(next, [2, 2]));
        Assert.Equal([2L, 2L], targets.shape);
        Assert.Equal(next.Select(latent.EnglishOf), targets.data<long>().ToArray());
    }

    [Fact]
    public void The_loss_is_the_logit_lens_cross_entropy_of_the_english_word_averaged_over_the_rows()
    {
        using var scope = NewDisposeScope();
        using var model = LanguageModel.Load(EmbeddedModel.Tiny.Folder(), new LoadOptions { DType = ScalarType.Float32 });
        var tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());
        var latent = LatentEnglish.For(tokenizer);
        var ids = tokenizer.Encode("今天天氣真好。天氣預報說明天會很冷。", addSpecialTokens: false).Select(i => (long)i).ToArray();
        var inputs = tensor(ids[..^1], [1, ids.Length - 1]);
        var next = tensor(ids[1..], [1, ids.Length - 1]);
        using var result = model.Forward(inputs, ForwardOptions.Everything);
        int[] rows = [2, 3];

        using var loss = latent.Loss(model, result.HiddenStates!, rows, next);

        // Independently: RMS norm with the final norm's weight, the tied embedding as the head, minus the log-probability
        // of the English token, averaged over the positions that ask for one and then over the rows.
        var norm = model.Weights["model.norm.weight"];
        var embed = model.Weights["model.embed_tokens.weight"];
        var asked = Enumerable.Range(1, ids.Length - 1).Where(t => latent.EnglishOf(ids[t]) != LatentEnglish.None).ToList();
        Assert.True(asked.Count >= 3, "the sentence has Chinese lexicon words");
        double expected = rows.Average(row => asked.Average(t =>
        {
            var x = result.HiddenStates![row][0, t - 1];
            var normed = x / (x.pow(2).mean() + model.Config.RmsNormEps).sqrt() * norm;
            var logProbs = normed.matmul(embed.t()).log_softmax(0);
            return -logProbs[latent.EnglishOf(ids[t])].item<float>();
        }));
        Assert.Equal(expected, loss!.item<float>(), 4);

        // A batch without Chinese lexicon words asks for nothing.
        var english = tokenizer.Encode("The weather is good.", addSpecialTokens: false).Select(i => (long)i).ToArray();
        using var plain = model.Forward(tensor(english, [1, english.Length]), ForwardOptions.Everything);
        Assert.Null(latent.Loss(model, plain.HiddenStates!, rows, tensor(english, [1, english.Length])));
    }

    [Fact]
    public void The_loss_trains_the_blocks_below_its_rows_and_the_head_and_nothing_above()
    {
        using var scope = NewDisposeScope();
        using var model = LanguageModel.Load(EmbeddedModel.Tiny.Folder(), new LoadOptions { DType = ScalarType.Float32 });
        var tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());
        foreach (var w in model.Weights.Values) w.requires_grad_(true);
        try
        {
            var ids = tokenizer.Encode("今天天氣真好。", addSpecialTokens: false).Select(i => (long)i).ToArray();
            using var result = model.Forward(tensor(ids[..^1], [1, ids.Length - 1]), new ForwardOptions { RecordGradients = true, HiddenStates = true });
            // Rows 2 and 3 are the outputs of blocks 1 and 2.
            LatentEnglish.For(tokenizer).Loss(model, result.HiddenStates!, [2, 3], tensor(ids[1..], [1, ids.Length - 1]))!.backward();
            bool Trained(string name) => model.Weights[name].grad is { } g && g.abs().max().item<float>() > 0;
            Assert.True(Trained("model.embed_tokens.weight"));
            Assert.True(Trained("model.norm.weight"));
            Assert.True(Trained("model.layers.0.mlp.down_proj.weight"));
            Assert.True(Trained("model.layers.2.mlp.down_proj.weight"));
            Assert.False(Trained("model.layers.3.mlp.down_proj.weight"));
            Assert.False(Trained("model.layers.5.self_attn.q_proj.weight"));
        }
        finally
        {
            foreach (var w in model.Weights.Values) w.requires_grad_(false);
        }
    }

    [Fact]
    public void The_middle_rows_lie_above_the_first_quarter_and_up_to_three_fifths()
    {
        Assert.Equal([3, 4, 5, 6], TinyModelRecipe.Deep.LatentRows);
        Assert.Equal([2, 3], new TinyModelRecipe { Layers = 6 }.LatentRows);
        Assert.Throws<ArgumentException>(() => (TinyModelRecipe.Deep with { LatentEnglish = -1 }).Validate());
    }
}
