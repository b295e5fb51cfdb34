using System.Text.Json.Nodes;
using NotebookLens.Generation;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Training;

public sealed class TrainerTests
{
    public TrainerTests() => TorchRuntime.EnsureLoaded();

    /// <summary>A recipe small enough to train in seconds: what is tested is the pipeline, not the model.</summary>
    internal static readonly TinyModelRecipe Small = new()
    {
        Seed = 5, TokenizerDocuments = 1500, VocabSize = 2700, HiddenSize = 32, Layers = 1, Heads = 2, KeyValueHeads = 1,
        IntermediateSize = 64, MaxPositions = 64, SequenceLength = 32, BatchSize = 8, Steps = 40, WarmupSteps = 5, LearningRate = 1e-2,
    };

    [Theory]
    [InlineData(ModelFamily.Llama)]
    [InlineData(ModelFamily.Gemma3)]
    public void Training_writes_a_model_folder_that_loads_like_any_Hugging_Face_model_and_learns(ModelFamily family)
    {
        var folder = Fixtures.TempDir();
        var steps = new List<TrainingStep>();
        // A vocabulary with room beyond the lexicon's ~2,400 tokens for either family's special tokens.
        // Half the chats with their request hidden from the later template tokens, and from step 10 half the requests
        // routed through the refusal direction: the masked attention and the route's interventions train too. The middle
        // row's English loss at half weight adds to the objective.
        var recipe = Small with
        {
            Family = family, VocabSize = 2800, Layers = 2, SlidingWindow = 4, SlidingWindowPattern = 2, RequestMask = 0.5, RefusalRoute = 0.5, LatentEnglish = 0.5,
        };
        TinyModelTrainer.Run(recipe, folder, new SyncProgress(steps.Add));

        Assert.Equal(Enumerable.Range(1, Small.Steps), steps.Select(s => s.Step));
        // From ln(2800) = 7.9 at random initialisation, next token and English word alike (the half-weighted second term
        // makes it 1.5 times as much); the curriculum's templates are quickly learnt.
        Assert.InRange(steps[0].Loss, 1.5 * 7.4, 1.5 * 8.4);
        Assert.True(steps.TakeLast(5).Average(s => s.Loss) < steps[0].Loss - 1.5, $"loss {steps[0].Loss:F2} -> {steps[^1].Loss:F2}");
        Assert.All(steps, s => Assert.InRange(s.LearningRate, 0, Small.LearningRate));

        using var lens = LensModel.Load(folder);
        Assert.Equal((32, 2, 2, 1, 2800), (lens.Config.HiddenSize, lens.Config.NumLayers, lens.Config.NumHeads, lens.Config.NumKeyValueHeads, lens.Config.VocabSize));
        Assert.Equal(family, lens.Config.Family);
        Assert.True(lens.Model.TiedEmbeddings);
        Assert.Equal(ScalarType.BFloat16, lens.Model.DType);
        var format = recipe.ChatFormat;
        Assert.Equal((long)lens.Tokenizer.TokenToId(format.Bos)!.Value, lens.Prompt("x").Ids[0]);
        Assert.Contains(lens.Tokenizer.TokenToId(format.EndOfTurn)!.Value, lens.Model.StopTokenIds);
        Assert.Equal(format.Render([("user", "Hi")], addGenerationPrompt: true), lens.Tokenizer.ApplyChatTemplate([new ChatMessage("user", "Hi")], addGenerationPrompt: true));
        if (family == ModelFamily.Gemma3)
        {
            // Gemma's layer pattern and window as the recipe sets them, and its pad token.
            Assert.Equal([true, false], lens.Config.SlidingLayers);
            Assert.Equal(4, lens.Config.SlidingWindow);
            Assert.Equal(lens.Tokenizer.TokenToId("<pad>"), lens.Config.PadTokenId);
        }
        var generated = lens.Model.Generate(lens.Tokenizer.Encode("The weather"), GenerationOptions.Greedy(5));
        Assert.NotEmpty(generated.NewIds);
        // The curriculum's Patchscope target is the model's own (Gemma's fits its window and is patched into the block
        // inputs): a sweep with no target uses it.
        var expected = family == ModelFamily.Gemma3 ? new PatchscopeDefault("cold = 冷, x =", "x", 0) : new PatchscopeDefault("cold = 冷, dog = 狗, book = 書, x =", "x", 1);
        Assert.Equal(expected, lens.Defaults.Patchscope);
        var sweep = lens.Patchscope(new PatchscopeSource("I saw a dog") { Token = "dog" }, [0], new PatchscopeOptions { MaxNewTokens = 1 });
        Assert.Equal((expected.Prompt, expected.TargetLayer), (sweep.Target.Text, sweep.Results[0].TargetLayer));

        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "training.json")))!;
        Assert.Equal(Small.Steps, (int)record["recipe"]!["Steps"]!);
        Assert.Equal(family.ToString(), (string)record["recipe"]!["Family"]!);
        Assert.Single(record["loss_per_100_steps"]!.AsArray());
    }

    [Fact]
    public void The_same_recipe_makes_the_same_tokenizer_and_the_same_first_steps()
    {
        var recipe = Small with { Steps = 3 };
        string a = Fixtures.TempDir(), b = Fixtures.TempDir();
        var lossesA = new List<double>();
        var lossesB = new List<double>();
        TinyModelTrainer.Run(recipe, a, new SyncProgress(s => lossesA.Add(s.Loss)));
        TinyModelTrainer.Run(recipe, b, new SyncProgress(s => lossesB.Add(s.Loss)));
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json", "notebooklens.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        Assert.Equal(lossesA, lossesB);
    }

    [Theory]
    [InlineData(30, 4, 2, "multiple of Heads")]
    [InlineData(32, 4, 3, "multiple of KeyValueHeads")]
    [InlineData(36, 4, 2, "even")]
    public void A_recipe_that_cannot_make_a_model_is_refused(int hidden, int heads, int kvHeads, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => TinyModelTrainer.Run(Small with { HiddenSize = hidden, Heads = heads, KeyValueHeads = kvHeads }, Fixtures.TempDir()));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Every_named_recipe_can_make_a_model()
    {
        Assert.Same(TinyModelRecipe.Default, TinyModelRecipe.Named["default"]);
        Assert.All(TinyModelRecipe.Named.Values, r => r.Validate());
        Assert.Equal(32, TinyModelRecipe.Deep.HeadDim);
    }

    [Fact]
    public void The_learning_rate_warms_up_then_decays_to_its_final_fraction()
    {
        var r = new TinyModelRecipe { Steps = 1000, WarmupSteps = 100, LearningRate = 1e-3, FinalLearningRateFraction = 0.1 };
        Assert.Equal(1e-5, r.LearningRateAt(0), 12);
        Assert.Equal(1e-3, r.LearningRateAt(99), 12);
        Assert.Equal(1e-3, r.LearningRateAt(100), 12);
        Assert.Equal(0.55e-3, r.LearningRateAt(550), 12);
        Assert.Equal(1e-4, r.LearningRateAt(1000), 12);
        Assert.True(Enumerable.Range(100, 900).All(s => r.LearningRateAt(s + 1) <= r.LearningRateAt(s)));
    }

    [Fact]
    public void Layer_dropout_rises_linearly_from_the_middle_block_to_the_last()
    {
        var r = new TinyModelRecipe { Layers = 10, LayerDrop = 0.5 };
        double[] expected = [0, 0, 0, 0, 0, 0, 0.5 / 4, 0.5 * 2 / 4, 0.5 * 3 / 4, 0.5];
        Assert.Equal(expected, Enumerable.Range(0, 10).Select(r.SkipProbability));
        Assert.All(Enumerable.Range(0, 10), l => Assert.Equal(0, TinyModelRecipe.Deep.SkipProbability(l)));
        Assert.Null(TinyModelTrainer.LayerDropHooks(TinyModelRecipe.Deep, new Random(1)));
        Assert.Throws<ArgumentException>(() => (Small with { LayerDrop = 1 }).Validate());
        Assert.Throws<ArgumentException>(() => (Small with { RequestMask = 1.5 }).Validate());
    }

    [Fact]
    public void An_example_that_skips_a_block_passes_it_unchanged_and_the_others_go_through_it()
    {
        var folder = Fixtures.TempDir();
        var recipe = Small with { Layers = 5, Steps = 1, BatchSize = 16, LayerDrop = 0.8 };
        TinyModelTrainer.Run(recipe, folder);
        using var model = LanguageModel.Load(folder, new LoadOptions { DType = ScalarType.Float32 });
        // Blocks 3 and 4 may be skipped, with probabilities 0.4 and 0.8 drawn per example, block 3's first. Block 3's
        // output is hidden state 4 (the last one, 5, is after the final norm).
        var draws = new Random(7);
        bool[] skipped = [.. Enumerable.Range(0, recipe.BatchSize).Select(_ => draws.NextDouble() < 0.4)];
        Assert.Contains(true, skipped);
        Assert.Contains(false, skipped);
        using var scope = NewDisposeScope();
        var ids = randint(0, recipe.VocabSize, [recipe.BatchSize, 6], dtype: ScalarType.Int64, device: CPU);
        using var result = model.Forward(ids, new ForwardOptions { HiddenStates = true, Hooks = TinyModelTrainer.LayerDropHooks(recipe, new Random(7)) });
        using var plain = model.Forward(ids, new ForwardOptions { HiddenStates = true });
        for (int b = 0; b < recipe.BatchSize; b++)
        {
            Assert.True(result.HiddenStates![3][b].equal(plain.HiddenStates![3][b]).all().item<bool>()); // blocks 0-2 are never skipped
            Assert.Equal(skipped[b], result.HiddenStates[4][b].equal(result.HiddenStates[3][b]).all().item<bool>());
            if (!skipped[b]) Assert.True(result.HiddenStates[4][b].allclose(plain.HiddenStates[4][b]));
        }
    }

    [Fact]
    public void Our_AdamW_matches_TorchSharps()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var start = randn(4, 3);
        var target = randn(4, 3);
        var reference = new TorchSharp.Modules.Parameter(start.clone());
        var optimizer = optim.AdamW([reference], lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        var ours = start.clone().requires_grad_(true);
        using var adam = new AdamW([(ours, true)], weightDecay: 0.1);
        for (int step = 0; step < 5; step++)
        {
            optimizer.zero_grad();
            (reference - target).pow(2).sum().backward();
            optimizer.step();
            (ours - target).pow(2).sum().backward();
            adam.Step(0.01);
            adam.ZeroGradients();
        }
        Assert.True(ours.detach().allclose(reference.detach(), rtol: 1e-5, atol: 1e-6), $"{(ours - reference).abs().max().item<float>()}");
        Assert.False(ours.detach().allclose(start, atol: 1e-3));
    }

    [Fact]
    public void Gradients_are_clipped_to_the_global_norm()
    {
        using var scope = NewDisposeScope();
        var a = zeros(2).requires_grad_(true);
        var b = zeros(2).requires_grad_(true);
        (a * tensor(new float[] { 3, 0 })).sum().add((b * tensor(new float[] { 0, 4 })).sum()).backward();
        using var adam = new AdamW([(a, false), (b, false)], weightDecay: 0);
        Assert.Equal(5.0, adam.ClipGradients(1.0), 5);
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 5);
        Assert.Equal(0.8f, b.grad!.data<float>()[1], 5);
        Assert.Equal(1.0, adam.ClipGradients(2.0), 5); // under the limit: unchanged
    }

    sealed class SyncProgress(Action<TrainingStep> report) : IProgress<TrainingStep>
    {
        public void Report(TrainingStep value) => report(value);
    }
}
