using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Events;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Steering;
using NotebookLens.Views;
using NotebookLens.Views.Html;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// The analysis subcommands on tiny in a real kernel, each held to the same analysis run through the C# API on a
/// tiny of the test's own: the numbers and tokens in the HTML, the whole plain-text view (so every option reached
/// the core), the --as variable, and errors that say what to do. Alone: their tensors would otherwise upset the
/// memory tests of classes running meanwhile (they count the process's live tensors).
/// </summary>
[Collection(nameof(AloneCollection))]
public sealed class AnalysisSubcommandTests(SharedNotebook shared, TinyLens tiny) : IClassFixture<SharedNotebook>, IClassFixture<TinyLens>
{
    LensModel Lens => tiny.Model;

    Task<Submission> Submit(string code) => shared.Notebook.SubmitAsync(code);

    /// <summary>Runs a cell that must succeed and puts its result into <paramref name="variable"/>; returns the cell and that C# value.</summary>
    async Task<(Submission Cell, T Value)> Run<T>(string code, string variable)
    {
        var cell = (await Submit($"{code} --model tiny --as {variable}")).AssertSucceeded();
        var value = (await Submit(variable)).AssertSucceeded().ReturnValue;
        return (cell, Assert.IsType<T>(value));
    }

    /// <summary>The cell's result view (its last display; a live line of progress or tokens comes before it) reads as the view of <paramref name="expected"/>.</summary>
    static void AssertSameText(object expected, Submission cell) =>
        Assert.Equal(LensViews.Of(expected).Text, cell.Events.OfType<DisplayedValueProduced>().Last().FormattedValues.Single(v => v.MimeType == "text/plain").Value);

    [Fact]
    public async Task Neighbors_shows_the_nearest_tokens_and_their_similarity()
    {
        var expected = Lens.Neighbors(" cold", 5, EmbeddingTable.Output);
        var (cell, value) = await Run<NeighborsResult>("#!model neighbors \" cold\" --k 5 --table output", "coldNeighbors");
        var top = expected.Neighbors[0];
        Assert.Contains($"<code title=\"vocabulary: {HtmlBuilder.Escape(top.Token)}\">{HtmlBuilder.Escape(Pieces.TokenText(top.Text))}</code>", cell.Html);
        Assert.Contains(Format.Fixed(top.Similarity, 4), cell.Html);
        Assert.Equal(expected.Neighbors.Select(n => n.Id), value.Neighbors.Select(n => n.Id));
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Arithmetic_evaluates_the_expression()
    {
        var expected = Lens.Arithmetic("冷 - cold + small", 4);
        var (cell, value) = await Run<NeighborsResult>("#!model arithmetic \"冷 - cold + small\" --k 4", "sum");
        Assert.Contains(Format.Fixed(expected.Neighbors[0].Similarity, 4), cell.Html);
        Assert.Equal(expected.Neighbors.Select(n => n.Id), value.Neighbors.Select(n => n.Id));
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Hidden_shows_every_hidden_state()
    {
        const string text = "The sky is blue.";
        var expected = Lens.HiddenStates(text);
        var (cell, value) = await Run<HiddenStatesResult>($"#!model hidden \"{text}\"", "hidden");
        Assert.Equal(Lens.Config.NumLayers + 1, value.States.Count);
        Assert.Equal(expected.States[^1].Norms, value.States[^1].Norms);
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Similarity_takes_the_sentences_separated_by_a_bar()
    {
        string[] sentences = ["The cat sat on the mat.", "A cat ran home.", "My cat is old."];
        var expected = Lens.Similarity("cat", sentences);
        var (cell, value) = await Run<SimilarityResult>($"#!model similarity cat --sentence \"{string.Join(" | ", sentences)}\"", "similarity");
        Assert.Equal(sentences, value.Items.Select(i => i.Sentence));
        Assert.Equal(expected.Raw[^1][0, 1], value.Raw[^1][0, 1]);
        Assert.Contains("<template", cell.Html); // the chart
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Lens_shows_each_layers_top_token()
    {
        const string text = "The cat sat on the";
        var expected = Lens.LogitLens(text, new LogitLensOptions { TopK = 2, Targets = [" mat"] });
        var (cell, value) = await Run<LogitLensResult>($"#!model lens \"{text}\" --k 2 --target \" mat\"", "lens");
        var last = expected.Top[^1][^1][0]; // the model's own prediction after the last token
        Assert.Contains($"data-p=\"{Format.Fixed(last.Probability, 4)}\">{HtmlBuilder.Escape(Pieces.TokenText(last.Text))}</td></tr>", cell.Html);
        Assert.Equal(last.Id, value.Top[^1][^1][0].Id);
        Assert.Contains("Target  mat", cell.Html.Replace("&#32;", " "));
        AssertSameText(expected, cell);

        var raw = Lens.LogitLens(text, new LogitLensOptions { TopK = 3, ApplyFinalNorm = false, LastPositionOnly = true });
        var lastOnly = (await Submit($"#!model lens \"{text}\" --no-final-norm --last --model tiny")).AssertSucceeded();
        AssertSameText(raw, lastOnly);
        Assert.Single(raw.Positions);
    }

    [Fact]
    public async Task Attention_shows_the_top_heads_one_head_the_grid_and_the_first_token()
    {
        const string text = "The cat sat on the mat";
        var maps = Lens.Attention(text);
        var (cell, value) = await Run<AttentionResult>($"#!model attention \"{text}\" --from mat --to cat --k 3", "attention");
        var top = maps.TopHeads(maps.Prompt.Locate("mat"), maps.Prompt.Locate("cat"), 3)[0];
        Assert.Contains($"<tr><td class=\"nl-num\">{top.Layer}</td><td class=\"nl-num\">{top.Head}</td>", cell.Html);
        Assert.Contains(Format.Fixed(top.Score, 4), cell.Html);
        Assert.Equal(maps.Maps[5], value.Maps[5]);
        AssertSameText(AttentionView.TopHeads(maps, maps.Prompt.Locate("mat"), maps.Prompt.Locate("cat"), 3), cell);

        var head = (await Submit($"#!model attention \"{text}\" --layer 1 --head 2 --model tiny")).AssertSucceeded();
        AssertSameText(AttentionView.Head(maps, 1, 2), head);
        var grid = (await Submit($"#!model attention \"{text}\" --grid --layer 3 --model tiny")).AssertSucceeded();
        Assert.Contains("nl-attention-grid", grid.Html);
        AssertSameText(AttentionView.Grid(maps, [3]), grid);
        var sink = (await Submit($"#!model attention \"{text}\" --model tiny")).AssertSucceeded();
        AssertSameText(AttentionView.FirstToken(maps), sink);
    }

    [Fact]
    public async Task Neurons_shows_a_layers_top_neurons_or_where_one_fires()
    {
        const string text = "The cat sat on the mat";
        var expected = Lens.Neurons(text, 2, 4);
        var (cell, value) = await Run<NeuronsResult>($"#!model neurons \"{text}\" --layer 2 --k 4", "neurons");
        Assert.Equal(expected.Activations.Select(a => a.Neuron), value.Activations.Select(a => a.Neuron));
        Assert.Contains($"<code>{HtmlBuilder.Escape(Pieces.TokenText(expected.Activations[0].Token))}</code>", cell.Html);
        Assert.Contains(" " + Format.Number(expected.Activations[0].Activation) + "</td>", cell.Html);
        AssertSameText(expected, cell);

        var neuron = expected.Activations[0].Neuron;
        var where = Lens.NeuronTokens(2, neuron, [text, "A dog ran home"], 3);
        var byNeuron = (await Submit($"#!model neurons --layer 2 --neuron {neuron} --prompt \"{text}|A dog ran home\" --k 3 --model tiny")).AssertSucceeded();
        AssertSameText(where, byNeuron);
    }

    [Fact]
    public async Task Pca_projects_the_texts()
    {
        string[] texts = ["a cat", "a dog", "a red car", "the blue sea"];
        var expected = Lens.Pca(3, texts);
        var (cell, value) = await Run<PcaResult>($"#!model pca --layer 3 --text \"{string.Join("|", texts)}\"", "pca");
        Assert.Equal(expected.Projected[2, 1], value.Projected[2, 1]);
        Assert.Contains("<template", cell.Html);
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Temperature_shows_the_distribution_at_each_temperature()
    {
        const string text = "The cat sat on the";
        var expected = Lens.Temperatures(text, 0.5, 2);
        var (cell, value) = await Run<TemperatureResult>($"#!model temperature \"{text}\" --t 0.5,2", "temperatures");
        Assert.Equal([0.5, 2], value.Distributions.Select(d => d.Temperature));
        Assert.Contains(HtmlBuilder.Escape(Pieces.TokenText(expected.Distributions[0].Top[0].Text)), cell.Html);
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Generate_streams_the_text_as_it_comes()
    {
        const string text = "Once upon a time";
        var expected = Lens.Generate(text, GenerationOptions.Greedy(6));
        var (cell, value) = await Run<GenerationOutput>($"#!model generate \"{text}\" --max-new-tokens 6", "generated");
        Assert.Equal(expected.NewIds, value.NewIds);
        Assert.Contains(HtmlBuilder.Escape(expected.Text), cell.Html);
        // One live line, updated once per token: the prompt and the tokens so far, each a prefix of the whole.
        var updates = cell.Events.OfType<DisplayedValueUpdated>().Select(e => e.FormattedValues.Single().Value).ToList();
        Assert.True(updates.Count >= expected.NewIds.Count, $"{updates.Count} updates for {expected.NewIds.Count} tokens");
        var streamed = updates.Take(updates.Count - 1).Prepend(cell.Events.OfType<DisplayedValueProduced>().First().FormattedValues.Single().Value).ToList();
        Assert.Equal(text + expected.Text, streamed[^1]);
        Assert.All(streamed, s => Assert.StartsWith(s, text + expected.Text));
        Assert.Contains($"Generated {expected.NewIds.Count} tokens", updates[^1]);

        var sampled = Lens.Generate(Lens.ChatPrompt("Hi", "Be brief."), new GenerationOptions { MaxNewTokens = 5, Temperature = 0.8, Seed = 3 });
        var chat = (await Submit("#!model generate \"Hi\" --chat --system \"Be brief.\" --max-new-tokens 5 --temperature 0.8 --seed 3 --model tiny --as chatReply")).AssertSucceeded();
        Assert.Equal(sampled.NewIds, Assert.IsType<GenerationOutput>((await Submit("chatReply")).ReturnValue).NewIds);
        Assert.Contains(HtmlBuilder.Escape(sampled.Text), chat.Html);
    }

    [Fact]
    public async Task Generate_streams_past_a_row_the_tokenizer_has_no_token_for()
    {
        // tiny padded as Gemma-3-4B's table is (rows without a token), one of them the greedy choice's embedding times
        // ten: with the output layer tied, it outscores that choice, so generation lands on it first.
        const string text = "Once upon a time";
        int choice = Lens.Generate(text, GenerationOptions.Greedy(1)).NewIds[0];
        using var vocabulary = new PaddedVocabulary(Lens.Folder, 8, (embeddings, padding) => padding[3] = embeddings[choice] * 10);
        int tokenless = vocabulary.FirstRow + 3;
        GenerationOutput expected;
        using (var padded = LensModel.Load(vocabulary.Folder))
            expected = padded.Generate(text, GenerationOptions.Greedy(4));
        Assert.Equal(tokenless, expected.NewIds[0]);
        (await Submit($"#!model load {vocabulary.Folder} --name padded")).AssertSucceeded();
        try
        {
            var cell = (await Submit($"#!model generate \"{text}\" --max-new-tokens 4 --model padded --as paddedReply")).AssertSucceeded();
            Assert.Equal(expected.NewIds, Assert.IsType<GenerationOutput>((await Submit("paddedReply")).ReturnValue).NewIds);
            // The live line leaves the row out, as the text does (transformers' decode skips ids without a token) ...
            var updates = cell.Events.OfType<DisplayedValueUpdated>().Select(e => e.FormattedValues.Single().Value).ToList();
            var visible = expected.NewIds.Where(id => id != tokenless).ToList();
            Assert.Equal(text + Lens.Decode(visible, cleanUpTokenizationSpaces: false), updates[^2]);
            Assert.Equal(Lens.Decode(visible), expected.Text);
            // ... and the result's chips show it by its id.
            Assert.Contains(HtmlBuilder.Escape($"⟨id {tokenless}: no token⟩"), cell.Html);
        }
        finally
        {
            await Submit("#!model unload padded");
        }
    }

    [Fact]
    public async Task Refusal_runs_the_experiment_with_live_progress()
    {
        var options = new RefusalExperimentOptions
        {
            TrainCount = 2, ValidationCount = 2, TestCount = 1, MaxNewTokens = 2, Layer = 2,
            Thresholds = new SelectionThresholds { MaxKlDivergence = null, MinSteeringScore = null },
        };
        var expected = Lens.Refusal(options);
        var (cell, value) = await Run<RefusalExperimentResult>(
            "#!model refusal --layer 2 --n-train 2 --n-val 2 --n-test 1 --max-new-tokens 2 --kl-threshold none --steering-threshold none", "refusal");
        Assert.Equal(expected.Selection.Best, value.Selection.Best);
        Assert.Equal(expected.Conditions.Select(c => c.Completions[0].Text), value.Conditions.Select(c => c.Completions[0].Text));
        Assert.Contains(HtmlBuilder.Escape(expected.Conditions[0].Completions[0].Text), cell.Html);
        Assert.NotEmpty(cell.Events.OfType<DisplayedValueUpdated>()); // the progress line moved
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Patchscope_sweeps_the_layers()
    {
        var expected = Lens.Patchscope(new PatchscopeSource("The cat sat") { Token = "cat" }, [0, 3], new PatchscopeOptions { MaxNewTokens = 3 });
        var (cell, value) = await Run<PatchscopeSweep>("#!model patchscope --source \"The cat sat\" --source-token cat --layers 0,3 --max-new-tokens 3", "sweep");
        Assert.Equal(expected.Results.Select(r => r.Text), value.Results.Select(r => r.Text));
        Assert.Contains(HtmlBuilder.Escape(expected.Results[1].Text), cell.Html);
        AssertSameText(expected, cell);
    }

    [Fact]
    public async Task Help_lists_the_analyses()
    {
        var cell = (await Submit("#!model")).AssertSucceeded();
        foreach (var subcommand in new[] { "neighbors", "arithmetic", "hidden", "similarity", "lens", "attention", "neurons", "pca", "temperature", "generate", "refusal", "patchscope" })
            Assert.Contains($"<td>{subcommand}</td>", cell.Html);
        Assert.Contains("separated by |", cell.Html);
    }

    [Fact]
    public async Task Completions_offer_the_analyses_and_their_options()
    {
        async Task<HashSet<string>> Completions(string code)
        {
            var request = new Microsoft.DotNet.Interactive.Commands.RequestCompletions(code, new Microsoft.DotNet.Interactive.LinePosition(0, code.Length));
            var result = await shared.Notebook.Kernel.SendAsync(request);
            return result.Events.OfType<CompletionsProduced>().SelectMany(e => e.Completions).Select(c => c.DisplayText).ToHashSet();
        }

        Assert.Superset(new HashSet<string> { "lens", "attention", "generate", "refusal", "patchscope" }, await Completions("#!model "));
        Assert.Superset(new HashSet<string> { "--layer", "--head", "--grid", "--from", "--to", "--model", "--as" }, await Completions("#!model attention \"hi\" "));
        Assert.Superset(new HashSet<string> { "input", "output" }, await Completions("#!model neighbors cold --table "));
    }

    /// <summary>Bad input of each kind: an error in #!model's terms, no stack trace, and the next cell works.</summary>
    [Theory]
    [InlineData("#!model attention \"The cat sat\" --layer 12 --head 0", "Layer 12 is out of range; this model has layers 0 .. 9. Change --layer.")]
    [InlineData("#!model attention \"The cat sat\" --layer 0 --head 7", "Head 7 is out of range; each layer has heads 0 .. 3. Change --head.")]
    [InlineData("#!model neurons \"The cat sat\" --layer 10", "Layer 10 is out of range; this model has layers 0 .. 9. Change --layer.")]
    [InlineData("#!model pca --layer 11 --text \"a|b\"", "out of range; this model has hidden-state layers 0 .. 10. Change --layer.")]
    [InlineData("#!model patchscope --source \"The cat\" --layers 0,12", "Change --layers or --target-layer.")]
    [InlineData("#!model attention \"The cat sat\" --from dog --to cat", "--from must be a word of the text")]
    [InlineData("#!model similarity dog --sentence \"The cat sat.|A cat ran.\"", "WORD (it must appear in every --sentence): give a word of the prompt")]
    [InlineData("#!model patchscope --source \"The cat\" --source-token dog", "--source-token (a word of --source) or --placeholder")]
    [InlineData("#!model neighbors cold --table middle", "Unknown table 'middle'. Use --table input")]
    [InlineData("#!model similarity cat --sentence \"The cat sat.\" --sentence \"A cat ran.\"", "Put all of them in one --sentence, separated by |")]
    [InlineData("#!model similarity cat", "#!model similarity needs two or more sentences in --sentence")]
    [InlineData("#!model lens \"hi\" --k 0", "--k must be a whole number ≥ 1, not '0'")]
    [InlineData("#!model temperature \"hi\" --t 1,hot", "--t must be a number, not 'hot'")]
    [InlineData("#!model temperature \"hi\" --t -1", "--t: give one or more positive temperatures")]
    [InlineData("#!model attention \"The cat sat\" --layer 1", "--layer needs --head (one head) or --grid")]
    [InlineData("#!model generate \"hi\" --seed 3", "Add --temperature T")]
    [InlineData("#!model generate \"hi\" --system \"x\"", "--system needs --chat")]
    [InlineData("#!model refusal --prune-layers 1.5", "--prune-layers 1.5 is not in [0, 1)")]
    [InlineData("#!model refusal --n-train 2 --n-val 1 --n-test 1 --layer 12", "Layer 12 is out of range; this model has layers 0 .. 9. Change --layer.")]
    [InlineData("#!model neurons --layer 1 --neuron 3", "#!model neurons --neuron needs prompts in --prompt")]
    [InlineData("#!model arithmetic \"- cold\"", "'- cold' has no term to add. The expression: write e.g. \"冷 - cold + small\"")]
    public async Task A_mistake_fails_with_what_to_do(string code, string message)
    {
        var failure = (await Submit(code + " --model tiny")).AssertFailed();
        Assert.Contains(message, failure);
        Assert.DoesNotContain("   at ", failure);
        (await Submit("#!model lens \"hi\" --last --model tiny")).AssertSucceeded();
    }
}

/// <summary>tiny loaded through the C# API, apart from the kernel's: the independent side of each comparison.</summary>
public sealed class TinyLens : IDisposable
{
    public LensModel Model { get; } = LensModel.Load("tiny");

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// The kernel's health under the analyses: stopping a long cell, and memory over many runs. Alone (no other test
/// class runs meanwhile), since both measure the process: tensors alive, managed memory, a thread's CPU time.
/// </summary>
[Collection(nameof(AloneCollection))]
public sealed partial class KernelHealthTests
{
    /// <summary>
    /// The same cell 100 times (a tensor view, an analysis): no tensor outlives a run (each runs in a dispose scope),
    /// and managed memory stays where it was after the first runs.
    /// </summary>
    [Theory]
    [InlineData("#!model weights model.layers.0.mlp.up_proj.weight --rows 16 --cols 16")]
    [InlineData("#!model lens \"The cat sat on the mat\" --target \" mat\" --model tiny")]
    public async Task Memory_stays_flat_over_100_runs_of_a_cell(string cell)
    {
        using var notebook = await NotebookKernel.StartAsync();
        for (var i = 0; i < 5; i++) (await notebook.SubmitAsync(cell)).AssertSucceeded();
        var (tensors, bytes) = Measure();
        for (var i = 0; i < 100; i++) (await notebook.SubmitAsync(cell)).AssertSucceeded();
        var (tensorsAfter, bytesAfter) = Measure();
        Assert.Equal(tensors, tensorsAfter);
        Assert.True(bytesAfter - bytes < 8_000_000, $"managed memory grew by {(bytesAfter - bytes) / 1e6:F1} MB");

        static (long Tensors, long Bytes) Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return (TorchSharp.torch.Tensor.TotalCount, GC.GetTotalMemory(forceFullCollection: true));
        }
    }

    /// <summary>
    /// Stopping the cell while refusal scores its candidates: the kernel's token reaches the core, which stops. The
    /// kernel fails a cancelled cell at once and drops its later displays whether or not the work stops, so whether
    /// it did is read from the CPU time of the thread that runs it.
    /// </summary>
    [Fact]
    public async Task Stopping_a_refusal_cell_stops_the_work()
    {
        using var notebook = await NotebookKernel.StartAsync();
        var worker = new TaskCompletionSource<int>();
        using var watch = notebook.Kernel.KernelEvents.Subscribe(new EventWatch(e =>
        {
            // Progress is published from the work's own thread, as the core reports it. Reports are at most every
            // 100 ms, so which counts show depends on the machine's speed: any candidate scored, not the last.
            if (e is DisplayedValueUpdated update && ScoringUnderWay().Match(update.FormattedValues.Single().Value) is { Success: true } m
                && int.Parse(m.Groups[1].Value) is var done && done >= 1 && done < int.Parse(m.Groups[2].Value))
                worker.TrySetResult(CurrentThreadId());
        }));
        // Every layer's candidates, then the completions: far longer than the test waits.
        var running = notebook.SubmitAsync("#!model refusal --n-train 4 --kl-threshold none --steering-threshold none");
        var thread = await worker.Task.WaitAsync(TimeSpan.FromSeconds(120));
        await notebook.Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.Cancel());
        Assert.Contains("cancel", (await running.WaitAsync(TimeSpan.FromSeconds(30))).AssertFailed(), StringComparison.OrdinalIgnoreCase);
        // The candidate being scored may still finish; after that the work's thread is idle or gone.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = ThreadCpu(thread);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var busy = ThreadCpu(thread) - before;
        Assert.True(busy < TimeSpan.FromSeconds(0.3), $"the work's thread used {busy.TotalSeconds:F1} s of CPU in the 3 s after the cell was stopped");
        (await notebook.SubmitAsync("#!model lens \"hi\" --last")).AssertSucceeded();
    }

    [GeneratedRegex(@"^score candidates: (\d+) of (\d+) ")]
    private static partial Regex ScoringUnderWay();

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int CurrentThreadId();

    /// <summary>CPU time of an OS thread of this process (zero once it has ended).</summary>
    static TimeSpan ThreadCpu(int id)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.Threads.Cast<System.Diagnostics.ProcessThread>().FirstOrDefault(t => t.Id == id)?.TotalProcessorTime ?? TimeSpan.Zero;
    }

    sealed class EventWatch(Action<KernelEvent> onEvent) : IObserver<KernelEvent>
    {
        public void OnNext(KernelEvent value) => onEvent(value);
        public void OnError(Exception error) { }
        public void OnCompleted() { }
    }
}

[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public sealed class AloneCollection;
