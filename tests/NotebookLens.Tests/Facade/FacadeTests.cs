using System.Text.Json;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tests.Inspection;
using NotebookLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Facade;

/// <summary>LensModel as a notebook user meets it: prompts, analyses from text or prompt, tensor ownership, edits, cancellation, progress.</summary>
public sealed class FacadeTests(FixtureLenses lenses) : IClassFixture<FixtureLenses>
{
    const string Text = "The apple is green. What color is the apple?";

    [Fact]
    public void A_prompt_made_from_text_chat_or_ids_has_the_tokenizers_tokens()
    {
        var lens = lenses.Llama;
        var prompt = lens.Prompt(Text);
        Assert.Equal(lens.Tokenizer.Encode(Text), prompt.Ids);
        Assert.Equal(PromptKind.Text, prompt.Kind);
        Assert.Equal(Enumerable.Range(0, prompt.Count), prompt.Tokens.Select(t => t.Index));
        Assert.True(prompt.Tokens[0].Special);
        var fromIds = lens.Prompt(prompt.Ids);
        Assert.Equal(prompt.Ids, fromIds.Ids);
        Assert.All(fromIds.Tokens, t => Assert.Equal(t.Text, fromIds.Text[t.Start..t.End]));
        var chat = lens.ChatPrompt("Hi!");
        Assert.Equal(lens.Tokenizer.Encode(lens.Tokenizer.ApplyChatTemplate([new ChatMessage("user", "Hi!")], addGenerationPrompt: true), addSpecialTokens: false), chat.Ids);
        Assert.Single(chat.Ids, id => id == lens.Tokenizer.BosId);
        Assert.Equal(LensErrorKind.OutOfRange, Assert.Throws<LensException>(() => lens.Prompt([lens.Tokenizer.VocabSize])).Kind);
    }

    [Fact]
    public void Locate_finds_occurrences_from_the_start_or_the_end()
    {
        var prompt = lenses.Llama.Prompt(Text);
        int first = prompt.Locate("apple"), last = prompt.Locate("apple", -1);
        Assert.True(first < last);
        Assert.Equal(last, prompt.Locate("apple", 2));
        Assert.Equal(" apple", prompt.Tokens[first].Text);
        var e = Assert.Throws<LensException>(() => prompt.Locate("pear"));
        Assert.Equal((LensErrorKind.NotInInput, "word"), (e.Kind, e.Setting));
        Assert.NotNull(e.Remedy);
        Assert.Throws<LensException>(() => prompt.Locate("apple", 3));
        Assert.Equal(prompt.Count - 1, prompt.Position(-1));
        Assert.Throws<LensException>(() => prompt.Position(prompt.Count));
    }

    [Fact]
    public void Analyses_take_text_or_a_prompt_and_say_where_they_came_from()
    {
        var lens = lenses.Gemma;
        var prompt = lens.Prompt(Text);
        Assert.Equal(lens.LogitLens(Text).Top[^1][^1][0], lens.LogitLens(prompt).Top[^1][^1][0]);
        Assert.Equal(lens.Attention(Text).Maps[3], lens.Attention(prompt).Maps[3]);
        Assert.Equal(lens.Neurons(Text, 1).Activations, lens.Neurons(prompt, 1).Activations);
        Assert.Equal(lens.Temperatures(Text, 1.0).Distributions[0].Top, lens.Temperatures(prompt, 1.0).Distributions[0].Top);
        Assert.Equal(lens.HiddenStates(Text).States[2].Norms, lens.HiddenStates(prompt).States[2].Norms);
        Assert.Equal(lens.Generate(Text, GenerationOptions.Greedy(3)).NewIds, lens.Generate(prompt, GenerationOptions.Greedy(3)).NewIds);
        var results = new object[]
        {
            lens.LogitLens(prompt), lens.Attention(prompt), lens.Neurons(prompt, 0), lens.Temperatures(prompt, 0.5, 2),
            lens.HiddenStates(prompt), lens.Generate(prompt, GenerationOptions.Greedy(2)), lens.Neighbors("▁apple", 3),
            lens.Arithmetic("▁cold - ▁hot + ▁big", 3), lens.Similarity("apple", Text, "An apple a day."), lens.Pca(1, [Text, "An apple a day."]),
            lens.Summary(),
        };
        foreach (var result in results)
        {
            // Plain records: System.Text.Json takes them as they are, and each names its model.
            var json = JsonSerializer.Serialize(result, result.GetType());
            Assert.Contains($"\"Name\":\"{lens.Name}\"", json);
        }
    }

    [Fact]
    public void Hidden_states_summarise_every_layer()
    {
        var lens = lenses.Llama;
        var prompt = lens.Prompt(Text);
        var result = lens.HiddenStates(prompt);
        Assert.Equal(lens.Config.NumLayers + 1, result.States.Count);
        Assert.Equal(["embed", "layer 0", "final norm"], result.States.Select(s => s.Label));
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true });
        for (int l = 0; l < result.States.Count; l++)
        {
            var h = run.HiddenStates![l][0].to(ScalarType.Float64);
            Assert.Equal(h.shape, result.States[l].Shape.Skip(1));
            for (int t = 0; t < prompt.Count; t++)
            {
                var row = h[t].data<double>().ToArray();
                Assert.Equal(Math.Sqrt(row.Sum(v => v * v)), result.States[l].Norms[t], 4);
                Assert.Equal(row.Take(HiddenStates.PreviewSize), result.States[l].Preview[t], new Close(1e-6));
            }
        }
    }

    sealed class Close(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void A_cell_like_dispose_scope_frees_every_tensor_the_calls_made()
    {
        var lens = lenses.Llama;
        void Cell()
        {
            var prompt = lens.Prompt(Text);
            var run = lens.Forward(prompt, ForwardOptions.Everything);
            var (_, cache) = lens.RunWithCache(prompt);
            var logits = lens.Unembed(cache[HookPoints.ResidPost(0)]);
            var weight = lens.Weight("model.layers.0.mlp.up_proj.weight");
            _ = Neurons.Activations(lens, prompt, 0);
            _ = lens.LogitLens(prompt);
            _ = lens.Attention(prompt);
            _ = lens.Neighbors("Ġapple", 3);
            _ = lens.Similarity("apple", Text, "An apple a day.");
            _ = lens.Generate(prompt, GenerationOptions.Greedy(2));
        }
        using (NewDisposeScope()) Cell(); // warm up: model-owned caches (embedding norms) are made once
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
            using (NewDisposeScope()) Cell();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        Tensor kept;
        using (NewDisposeScope()) kept = lens.Forward(Text).Logits.Keep();
        Assert.False(kept.IsInvalid);
        Assert.Equal(before + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        kept.Dispose();
    }

    [Fact]
    public void Orthogonalised_weights_are_scoped_and_visible()
    {
        using var lens = LensModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        var direction = RefusalDirection.Of(1, -1, randn(lens.Config.HiddenSize, generator: new torch.Generator(3)));
        var before = lens.Forward(Text).Logits;
        var ablated = lens.Forward(lens.Prompt(Text), new ForwardOptions { Hooks = direction.Ablation(lens.Config) }).Logits;
        Tensor edited;
        using (lens.WithOrthogonalizedWeights(direction))
        {
            Assert.Single(lens.Edits);
            Assert.Contains("layer 1", lens.Edits[0]);
            Assert.Equal(LensErrorKind.Unsupported, Assert.Throws<LensException>(() => lens.WithOrthogonalizedWeights(direction)).Kind);
            edited = lens.Forward(Text).Logits;
        }
        Assert.Empty(lens.Edits);
        TensorAssert.Close(edited, ablated, 1e-4, 1e-4, "weight edit == hook ablation");
        Assert.True((edited - before).abs().max().item<float>() > 1e-3, "the edit changed the output");
        TensorAssert.Close(lens.Forward(Text).Logits, before, 0, 0, "weights restored exactly");
        var top = lens.WithOrthogonalizedWeights(direction, m => m.LogitLens(Text).Top[^1][^1][0].Id);
        Assert.Equal(edited[0, -1].argmax().item<long>(), top);
        Assert.Empty(lens.Edits);
    }

    [Fact]
    public void Long_work_stops_when_cancelled()
    {
        var lens = lenses.Llama;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Equal(FinishReason.Cancelled, lens.Generate(Text, GenerationOptions.Greedy(5), cancel: cancelled.Token).FinishReason);
        Assert.ThrowsAny<OperationCanceledException>(() => lens.Patchscope(new PatchscopeSource(Text), [0, 1], cancel: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => lens.Refusal(new RefusalExperimentOptions { TrainCount = 2, ValidationCount = 2, TestCount = 1, Thresholds = new() { MinSteeringScore = null, MaxKlDivergence = null, PruneLayerFraction = 0 } }, cancel: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => lens.Neighbors("Ġapple", cancel: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => LensModel.Load(Fixtures.Llama, cancel: cancelled.Token));

        // Cancelled part-way (once the candidate directions are computed and scoring starts): it stops before the next candidate.
        using var midway = new CancellationTokenSource();
        var progress = new Recorder(p => { if (p.Stage == "score candidates") midway.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => lens.Refusal(
            new RefusalExperimentOptions { TrainCount = 2, ValidationCount = 2, TestCount = 1, Thresholds = new() { MinSteeringScore = null, MaxKlDivergence = null, PruneLayerFraction = 0 } },
            progress: progress, cancel: midway.Token));
        Assert.Equal(("score candidates", 0L), (progress.Reports[^1].Stage, progress.Reports[^1].Done));
        Assert.Single(progress.Reports, r => r.Stage == "score candidates");
    }

    [Fact]
    public void Long_work_reports_its_stages_with_counts_and_time_left()
    {
        var lens = lenses.Llama;
        var progress = new Recorder();
        lens.Patchscope(new PatchscopeSource(Text), [0, 1, 0], new PatchscopeOptions { MaxNewTokens = 1 }, progress);
        var reports = progress.Reports.Where(r => r.Stage == "patchscope").ToList();
        Assert.Equal(0, reports[0].Done);
        Assert.Equal(3, reports[0].Total);
        Assert.Null(reports[0].Remaining);
        Assert.True(reports[^1].Finished);
        Assert.Equal(TimeSpan.Zero, reports[^1].Remaining);

        var refusal = new Recorder();
        lens.Refusal(new RefusalExperimentOptions { TrainCount = 2, ValidationCount = 2, TestCount = 1, MaxNewTokens = 2,
            Thresholds = new() { MinSteeringScore = null, MaxKlDivergence = null, PruneLayerFraction = 0 } }, progress: refusal);
        int positions = new InstructionPrompts(lens.Tokenizer).PostInstructionCount;
        Assert.Equal([CandidateDirections.Stage, RefusalScorer.Stage, "score candidates", "generate"], refusal.Reports.Select(r => r.Stage).Distinct());
        // Two train and two validation prompts of each kind, counted as they are run.
        Assert.Equal((4L, 4L), (refusal.Reports.Last(r => r.Stage == CandidateDirections.Stage).Done, refusal.Reports.Last(r => r.Stage == CandidateDirections.Stage).Total!.Value));
        Assert.Equal((4L, 4L), (refusal.Reports.Last(r => r.Stage == RefusalScorer.Stage).Done, refusal.Reports.Last(r => r.Stage == RefusalScorer.Stage).Total!.Value));
        Assert.Equal(positions * lens.Config.NumLayers, refusal.Reports.Last(r => r.Stage == "score candidates").Done);
        Assert.Equal(4, refusal.Reports.Last(r => r.Stage == "generate").Done);
        Assert.True(refusal.Reports.Last().Finished);
    }

    sealed class Recorder(Action<LensProgress>? onReport = null) : IProgress<LensProgress>
    {
        public List<LensProgress> Reports { get; } = [];

        public void Report(LensProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }
}
