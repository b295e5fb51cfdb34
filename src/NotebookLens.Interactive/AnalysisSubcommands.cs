using Microsoft.DotNet.Interactive.Directives;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Interactive.Commands;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Views;
using NotebookLens.Views.Html;
using static NotebookLens.Interactive.OptionValues;
using Usage = NotebookLens.Interactive.ModelMagic.Usage;

namespace NotebookLens.Interactive;

/// <summary>
/// The <c>#!model</c> subcommands that run the core's analyses (one <see cref="LensModel"/> call each), with the CLI
/// verbs' options and defaults. Several values of one option go in one string separated by <c>|</c> (see
/// <see cref="OptionValues.CheckNoRepeats"/> for why).
/// </summary>
static class AnalysisSubcommands
{
    static readonly string[] TableNames = ["input", "output"];

    /// <summary>The options whose value is a list; giving one of them twice gets the advice to use <c>|</c>.</summary>
    static readonly HashSet<string> ListOptions = ["--sentence", "--text", "--prompt", "--target"];

    /// <summary>The core's names for settings (<see cref="LensException.Setting"/>) said as #!model options; each subcommand adds its own words.</summary>
    static readonly Dictionary<string, string> CoreSettings = new()
    {
        ["layer"] = "--layer",
        ["hidden-state layer"] = "--layer",
        ["head"] = "--head",
        ["neuron"] = "--neuron",
        ["occurrence"] = "--occurrence",
        ["components"] = "--components",
        ["TopK"] = "--k",
        ["MaxNewTokens"] = "--max-new-tokens",
        ["TrainCount"] = "--n-train, --n-val and --n-test",
        ["temperatures"] = "--t",
        ["sentences"] = "--sentence",
        ["texts"] = "--text",
        ["layers"] = "--layers",
    };

    public static void AddAnalyses(ModelMagic magic)
    {
        Add<ModelNeighborsCommand>(magic,
            new("neighbors", "neighbors WORD [--k 10] [--table input|output]",
                "The tokens nearest to WORD (a token or a word, quoted to keep a leading space: \" cold\") by cosine similarity of embeddings."),
            [Implicit("--word", "A token or word, e.g. \" cold\""), K(10), TableOption()],
            new() { ["word"] = "WORD", ["token"] = "WORD" },
            (command, model, cancel) =>
            {
                var word = Required(command.Word, "neighbors", "a word or token", "#!model neighbors \" cold\"");
                return Output.Of(model.Neighbors(word, Int(command.K, "--k", 10, min: 1), Table(command.Table), cancel));
            });

        Add<ModelArithmeticCommand>(magic,
            new("arithmetic", "arithmetic \"A - B + C\" [--k 10] [--table input|output]",
                "The tokens nearest to a sum and difference of embeddings, e.g. \"冷 - cold + small\" (spaces around + and -); the input tokens are left out."),
            [Implicit("--expression", "e.g. \"冷 - cold + small\""), K(10), TableOption()],
            new() { ["word"] = "the expression", ["token"] = "the expression", ["expression"] = "the expression" },
            (command, model, cancel) =>
            {
                var expression = Required(command.Expression, "arithmetic", "an expression", "#!model arithmetic \"冷 - cold + small\"");
                return Output.Of(model.Arithmetic(expression, Int(command.K, "--k", 10, min: 1), Table(command.Table), cancel));
            });

        Add<ModelHiddenCommand>(magic,
            new("hidden", "hidden TEXT", "The L + 1 hidden states of TEXT (embedding output first): shapes, norms per token, previews."),
            [Implicit("--text", "The text, in quotes")], [],
            (command, model, _) => Output.Of(model.HiddenStates(Required(command.Text, "hidden", "a text", "#!model hidden \"The sky is blue.\""))));

        Add<ModelSimilarityCommand>(magic,
            new("similarity", "similarity WORD --sentence \"S1|S2|...\" [--occurrence 1]",
                "How alike WORD's hidden states are across sentences, layer by layer (raw and normalised). The sentences go in one --sentence, separated by |."),
            [
                Implicit("--word", "The word to follow; it must appear in every sentence"),
                new("--sentence", "Two or more sentences separated by |, e.g. \"I sat by the bank.|I paid at the bank.\""),
                new("--occurrence", "Which occurrence of WORD in each sentence (1 = first, -1 = last; default 1)"),
            ],
            new() { ["word"] = "WORD (it must appear in every --sentence)" },
            (command, model, _) =>
            {
                var word = Required(command.Word, "similarity", "a word", "#!model similarity bank --sentence \"I sat by the bank.|I paid at the bank.\"");
                var sentences = List(Required(command.Sentence, "similarity", "two or more sentences in --sentence, separated by |",
                    $"#!model similarity {word} --sentence \"first sentence with {word}|second sentence with {word}\""));
                var occurrence = Int(command.Occurrence, "--occurrence", 1, min: int.MinValue);
                return Output.Of(model.Similarity(sentences.Select(s => new WordInContext(s, word, occurrence)).ToList()));
            });

        Add<ModelLensCommand>(magic,
            new("lens", "lens TEXT [--k 3] [--no-final-norm] [--target \"T1|T2\"] [--last]",
                "The logit lens: what each layer would predict at each token (--last: the last token only); --target follows tokens' ranks (several separated by |)."),
            [
                Implicit("--text", "The text, in quotes"),
                K(3),
                Flag("--no-final-norm", "Unembed the raw residual stream, without the final norm"),
                new("--target", "Tokens whose rank to follow, separated by | (a leading space is kept: \" Paris\")"),
                Flag("--last", "Only the last position"),
            ],
            new() { ["token"] = "--target", ["word"] = "--target" },
            (command, model, _) =>
            {
                var text = Required(command.Text, "lens", "a text", "#!model lens \"The capital of France is\"");
                return Output.Of(model.LogitLens(text, new LogitLensOptions
                {
                    TopK = Int(command.K, "--k", 3, min: 1),
                    ApplyFinalNorm = !command.NoFinalNorm,
                    LastPositionOnly = command.Last,
                    Targets = command.Target is null ? [] : List(command.Target, trim: false),
                }));
            });

        Add<ModelAttentionCommand>(magic,
            new("attention", "attention TEXT [--layer L --head H | --grid [--layer L]] [--from A --to B] [--k 5]",
                "Attention maps: one head, the grid of all heads (of one layer with --layer), the heads attending most from word A to word B; alone, the attention every head pays to the first token."),
            [
                Implicit("--text", "The text, in quotes"),
                new("--layer", "A layer (with --head, or with --grid for that layer's heads)"),
                new("--head", "A head of --layer"),
                Flag("--grid", "Every head as a small map; click one to enlarge it"),
                new("--from", "A word of TEXT the attention comes from (with --to)"),
                new("--to", "A word of TEXT the attention goes to (with --from)"),
                K(5),
            ],
            [],
            (command, model, _) => Attention(model, command));

        Add<ModelNeuronsCommand>(magic,
            new("neurons", "neurons TEXT --layer L [--k 10] | neurons --layer L --neuron N --prompt \"P1|P2\" [--k 10]",
                "The most active MLP neurons of a layer for TEXT, or where neuron N fires most over prompts (separated by |)."),
            [
                Implicit("--text", "The text, in quotes"),
                new("--layer", "The layer whose MLP neurons to read"),
                K(10),
                new("--neuron", "One neuron, to see where it fires (with --prompt)"),
                new("--prompt", "Prompts for --neuron, separated by |"),
            ],
            [],
            (command, model, _) => Neurons(model, command));

        Add<ModelPcaCommand>(magic,
            new("pca", "pca --layer L --text \"T1|T2|...\" [--word W] [--components 2]",
                "A PCA of hidden_states[L] (0 = embedding output) of each text, at its last token or at --word; the texts separated by |."),
            [
                new("--layer", "Which hidden state: 0 (embedding output) .. number of layers"),
                new("--text", "Two or more texts separated by |"),
                new("--word", "Take each text's representation at this word instead of its last token"),
                new("--components", "2 (default) or 3"),
            ],
            new() { ["word"] = "--word (it must appear in every --text)" },
            (command, model, _) =>
            {
                var layer = Int(Required(command.Layer, "pca", "--layer", "#!model pca --layer 2 --text \"a cat|a dog|a car\""), "--layer", 0);
                var texts = List(Required(command.Text, "pca", "two or more texts in --text, separated by |", $"#!model pca --layer {layer} --text \"a cat|a dog|a car\""));
                var components = Int(command.Components, "--components", 2, min: 1);
                if (components > 3) throw new MagicException($"--components {components}: the view draws 2 or 3.", "Use --components 2 or --components 3.");
                return Output.Of(model.Pca(layer, texts, command.Word, components));
            });

        Add<ModelTemperatureCommand>(magic,
            new("temperature", "temperature TEXT [--t 0.5,1,2]", "The next-token probabilities after TEXT at each temperature (softmax of logits / T)."),
            [Implicit("--text", "The text, in quotes"), new("--t", "Temperatures separated by commas (default 0.5,1,2)")],
            [],
            (command, model, _) =>
            {
                var text = Required(command.Text, "temperature", "a text", "#!model temperature \"The capital of France is\" --t 0.5,1,2");
                return Output.Of(model.Temperatures(text, [.. Doubles(command.T ?? "0.5,1,2", "--t")]));
            });

        Add<ModelGenerateCommand>(magic,
            new("generate", "generate TEXT [--chat] [--system S] [--max-new-tokens 64] [--temperature T [--top-k K] [--top-p P] [--seed S]]",
                "Continues TEXT (with --chat: answers it as a user message), greedy unless --temperature; the text appears as it is generated."),
            [
                Implicit("--text", "The prompt, in quotes"),
                Flag("--chat", "Wrap TEXT in the chat template as a user message"),
                new("--system", "A system message (with --chat)"),
                new("--max-new-tokens", $"At most this many new tokens (default {new GenerationOptions().MaxNewTokens})"),
                new("--temperature", "Sample at this temperature (> 0) instead of greedy decoding"),
                new("--top-k", "Sample among the K most likely tokens (with --temperature)"),
                new("--top-p", "Sample within top-p probability mass, in (0, 1] (with --temperature)"),
                new("--seed", "The sampling seed (with --temperature)"),
            ],
            [],
            Generate);

        Add<ModelRefusalCommand>(magic,
            new("refusal", "refusal [--layer L] [--n-train 32] [--n-val 8] [--n-test 8] [--max-new-tokens 32] [--prune-layers 0.2] [--kl-threshold X|none] [--steering-threshold X|none] "
                           + "[--refusal-tokens T,...] [--system S] [--batch-size 16] [--harmful FILE] [--harmless FILE]",
                "The refusal direction (Arditi et al.): candidates per layer and position, the selected one, refusal rates and completions with the direction ablated and added. Progress shows live; stopping the cell stops it."),
            [
                new("--layer", "Score this layer only (default: all layers, the last --prune-layers fraction discarded)"),
                new("--n-train", "Instructions of each kind to compute the candidate directions from"),
                new("--n-val", "Instructions of each kind to score the candidates on"),
                new("--n-test", "Instructions of each kind to complete in the four conditions"),
                new("--max-new-tokens", "Tokens per test completion"),
                new("--prune-layers", "Fraction of last layers not eligible, in [0, 1)"),
                new("--kl-threshold", "Largest KL divergence on harmless prompts a candidate may cause, or none"),
                new("--steering-threshold", "Smallest steering score a candidate must reach, or none"),
                new("--refusal-tokens", "Tokens that start a refusal, separated by commas"),
                new("--system", "A system message for every prompt"),
                new("--batch-size", "Prompts per forward pass"),
                new("--harmful", "A file of harmful instructions (one per line) instead of the embedded set"),
                new("--harmless", "A file of harmless instructions (one per line) instead of the embedded set"),
            ],
            new() { ["PruneLayerFraction"] = "--prune-layers" },
            Refusal);

        Add<ModelPatchscopeCommand>(magic,
            new("patchscope", "patchscope --source TEXT [--source-token T | --source-position I] [--target TEXT --placeholder X] [--layers a,b,c|all] [--target-layer L] [--max-new-tokens 10]",
                "Patchscope: the source's representation at each layer patched into the target prompt (default: the model's own target, which the embedded models have, else an identity prompt), and what the model then says."),
            [
                new("--source", "The source prompt, in quotes"),
                new("--source-token", "Read the source at the last token of this word (default: its last token)"),
                new("--source-position", "Read the source at this token index (negative: from the end)"),
                new("--target", "The target prompt (with --placeholder)"),
                new("--placeholder", "The word of --target whose position receives the representation"),
                new("--layers", "Source layers, a,b,c or all (default)"),
                new("--target-layer", "Patch into this layer of the target (default: the model's own target's layer, else the same layer)"),
                new("--max-new-tokens", $"Tokens per continuation (default {new PatchscopeOptions().MaxNewTokens})"),
            ],
            new()
            {
                ["word"] = "--source-token (a word of --source) or --placeholder (a word of --target)",
                ["position"] = "--source-position",
                ["layer"] = "--layers or --target-layer",
            },
            Patchscope);
    }

    /// <summary>
    /// Adds an analysis: options given twice are an error, and the core's errors about a setting are said in terms
    /// of this subcommand's options (<paramref name="settings"/> adds to or overrides <see cref="CoreSettings"/>).
    /// </summary>
    static void Add<T>(ModelMagic magic, Usage usage, KernelDirectiveParameter[] parameters, Dictionary<string, string> settings,
        Func<T, LensModel, CancellationToken, Output> work) where T : ModelCommand =>
        magic.AddAnalysis<T>(usage, parameters, (command, model, cancel) =>
        {
            CheckNoRepeats(command, usage.Name, ListOptions);
            try
            {
                return work(command, model, cancel);
            }
            catch (LensException e) when (e.Setting is { } setting && (settings.GetValueOrDefault(setting) ?? CoreSettings.GetValueOrDefault(setting)) is { } option)
            {
                // The remedy starts a sentence: "The expression: write ...", "--layer: use ...".
                var remedy = e.Remedy is null ? $"Change {option}." : $"{char.ToUpperInvariant(option[0])}{option[1..]}: {char.ToLowerInvariant(e.Remedy[0])}{e.Remedy[1..]}";
                throw new MagicException(e.Problem, remedy);
            }
        });

    static KernelDirectiveParameter Implicit(string name, string description) => new(name, description) { AllowImplicitName = true };

    static KernelDirectiveParameter Flag(string name, string description) => new(name, description) { Flag = true };

    static KernelDirectiveParameter K(int fallback) => new("--k", $"How many (default {fallback})");

    static KernelDirectiveParameter TableOption() =>
        new KernelDirectiveParameter("--table", "input (the embedding table, default) or output (the LM head's rows)").AddCompletions(() => TableNames);

    static EmbeddingTable Table(string? name) => name switch
    {
        null or "input" => EmbeddingTable.Input,
        "output" => EmbeddingTable.Output,
        _ => throw new MagicException($"Unknown table '{name}'.", "Use --table input (the input embeddings, the default) or --table output (the LM head's rows)."),
    };

    static Output Attention(LensModel model, ModelAttentionCommand command)
    {
        var text = Required(command.Text, "attention", "a text", "#!model attention \"The capital of France is Paris\" --from Paris --to France");
        if ((command.From is null) != (command.To is null))
            throw new MagicException("--from and --to go together.", "Give both, words of the text: e.g. --from Paris --to France.");
        if (command.Grid && command.Head is not null)
            throw new MagicException("--grid shows every head, --head one of them.", "Leave out --head (--grid --layer L shows the heads of layer L) or --grid.");
        if (command.Head is not null && command.Layer is null)
            throw new MagicException("--head needs --layer.", "For example: --layer 0 --head 1.");
        if (command.Layer is not null && command.Head is null && !command.Grid)
            throw new MagicException("--layer needs --head (one head) or --grid (every head of that layer).", $"For example: --layer {command.Layer} --head 0.");
        var k = Int(command.K, "--k", 5, min: 1);
        var maps = model.Attention(text);
        var layer = IntOrNull(command.Layer, "--layer");
        var views = new List<View>();
        if (command.Grid) views.Add(AttentionView.Grid(maps, layer is int l ? [Ranges.Check(l, maps.Layers, "layer")] : null));
        else if (layer is int one) views.Add(AttentionView.Head(maps, one, Int(command.Head, "--head", 0)));
        if (command.From is { } from && command.To is { } to)
            views.Add(AttentionView.TopHeads(maps, Locate(maps.Prompt, from, "--from"), Locate(maps.Prompt, to, "--to"), k));
        if (views.Count == 0) views.Add(AttentionView.FirstToken(maps));
        return new Output(maps, Together(views));
    }

    /// <summary>Where a word of the prompt is; when it is not there, the error lists the prompt's tokens.</summary>
    static int Locate(Prompt prompt, string word, string option)
    {
        try
        {
            return prompt.Locate(word);
        }
        catch (LensException e)
        {
            throw new MagicException(e.Problem,
                $"{option} must be a word of the text, spelled as it is there; its tokens are {string.Join(" ", prompt.Labels.Select(l => $"\"{l}\""))}.");
        }
    }

    static Output Neurons(LensModel model, ModelNeuronsCommand command)
    {
        const string Example = "#!model neurons \"The cat sat on the mat\" --layer 2";
        var layer = Int(Required(command.Layer, "neurons", "--layer", Example), "--layer", 0);
        var k = Int(command.K, "--k", 10, min: 1);
        if (command.Neuron is null)
        {
            if (command.Prompt is not null) throw new MagicException("--prompt goes with --neuron.", $"Add --neuron N to see where neuron N fires, or give one TEXT: {Example}");
            return Output.Of(model.Neurons(Required(command.Text, "neurons", "a text (or --neuron N with --prompt)", Example), layer, k));
        }
        if (command.Text is not null)
            throw new MagicException("Give TEXT (the top neurons of a prompt) or --neuron with --prompt (where one neuron fires), not both.",
                $"For example: #!model neurons --layer {layer} --neuron {command.Neuron} --prompt \"{command.Text}|another prompt\"");
        var prompts = List(Required(command.Prompt, "neurons --neuron", "prompts in --prompt, separated by |",
            $"#!model neurons --layer {layer} --neuron {command.Neuron} --prompt \"The cat sat.|A dog ran.\""));
        return Output.Of(model.NeuronTokens(layer, Int(command.Neuron, "--neuron", 0), prompts, k));
    }

    static Output Generate(ModelGenerateCommand command, LensModel model, CancellationToken cancel)
    {
        var text = Required(command.Text, "generate", "a prompt", "#!model generate \"Once upon a time\" --max-new-tokens 20");
        if (command.System is not null && !command.Chat)
            throw new MagicException("--system needs --chat (a system message is part of a chat prompt).", "Add --chat.");
        var options = Sampling(command) with { MaxNewTokens = Int(command.MaxNewTokens, "--max-new-tokens", new GenerationOptions().MaxNewTokens, min: 1) };
        var prompt = command.Chat ? model.ChatPrompt(text, command.System) : model.Prompt(text);
        var line = LiveLine.ForCurrentCell();
        // A chat prompt's rendered template is long and not what the user typed: the stream shows the reply alone.
        var stream = new TokenStream(line, model, command.Chat ? "" : text);
        var output = model.Generate(prompt, options with { OnToken = t => stream.Add(t.Id) }, cancel);
        line.Show($"Generated {output.NewIds.Count} tokens (stopped: {output.FinishReason}).");
        return new Output(output, GenerationView.Create(output, model));
    }

    /// <summary>Greedy unless --temperature; --top-k, --top-p and --seed only make sense when sampling (as the CLI's generate).</summary>
    static GenerationOptions Sampling(ModelGenerateCommand command)
    {
        if (command.Temperature is null)
        {
            if (command.TopK is not null || command.TopP is not null || command.Seed is not null)
                throw new MagicException("--top-k, --top-p and --seed choose how to sample, which needs --temperature.", "Add --temperature T (> 0), e.g. --temperature 0.8.");
            return new GenerationOptions();
        }
        var options = new GenerationOptions
        {
            Temperature = Double(command.Temperature, "--temperature", 1),
            TopK = Int(command.TopK, "--top-k", 0),
            TopP = Double(command.TopP, "--top-p", 1),
            Seed = Int(command.Seed, "--seed", 0, min: int.MinValue),
        };
        if (options.Temperature <= 0) throw new MagicException("--temperature must be > 0.", "Leave it out for greedy decoding, or give e.g. --temperature 0.8.");
        if (options.TopP is <= 0 or > 1) throw new MagicException("--top-p must be in (0, 1].", "For example: --top-p 0.9.");
        return options;
    }

    static Output Refusal(ModelRefusalCommand command, LensModel model, CancellationToken cancel)
    {
        var defaults = new RefusalExperimentOptions();
        var prune = Double(command.PruneLayers, "--prune-layers", defaults.Thresholds.PruneLayerFraction);
        if (prune is < 0 or >= 1)
            throw new MagicException($"--prune-layers {prune} is not in [0, 1).", "It is the fraction of last layers to discard, e.g. --prune-layers 0.2.");
        var options = new RefusalExperimentOptions
        {
            TrainCount = Int(command.NTrain, "--n-train", defaults.TrainCount, min: 1),
            ValidationCount = Int(command.NVal, "--n-val", defaults.ValidationCount, min: 1),
            TestCount = Int(command.NTest, "--n-test", defaults.TestCount, min: 1),
            MaxNewTokens = Int(command.MaxNewTokens, "--max-new-tokens", defaults.MaxNewTokens, min: 1),
            BatchSize = Int(command.BatchSize, "--batch-size", defaults.BatchSize, min: 1),
            Layer = IntOrNull(command.Layer, "--layer"),
            Thresholds = new SelectionThresholds
            {
                MaxKlDivergence = Threshold(command.KlThreshold, "--kl-threshold", defaults.Thresholds.MaxKlDivergence),
                MinSteeringScore = Threshold(command.SteeringThreshold, "--steering-threshold", defaults.Thresholds.MinSteeringScore),
                PruneLayerFraction = prune,
            },
            RefusalTokens = command.RefusalTokens?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? defaults.RefusalTokens,
            SystemPrompt = command.System,
        };
        var harmful = command.Harmful is { } harmfulFile ? InstructionSets.Load(harmfulFile) : InstructionSets.Harmful;
        var harmless = command.Harmless is { } harmlessFile ? InstructionSets.Load(harmlessFile) : InstructionSets.Harmless;
        return Output.Of(model.Refusal(options, harmful, harmless, new ProgressLine(LiveLine.ForCurrentCell()), cancel));
    }

    static Output Patchscope(ModelPatchscopeCommand command, LensModel model, CancellationToken cancel)
    {
        var text = Required(command.Source, "patchscope", "a source prompt in --source", "#!model patchscope --source \"Marie Curie\" --layers 0,2,4");
        if (command.SourceToken is not null && command.SourcePosition is not null)
            throw new MagicException("--source-token and --source-position both say where to read the source.", "Give one of them.");
        if ((command.Target is null) != (command.Placeholder is null))
            throw new MagicException("--target and --placeholder go together (the placeholder marks where the representation goes).",
                "Give both, e.g. --target \"cat -> cat; hello -> hello; ? ->\" --placeholder ?, or neither for the model's own target (the embedded models have one) or else that identity prompt.");
        var source = new PatchscopeSource(text)
        {
            Token = command.SourceToken,
            Index = Int(command.SourcePosition, "--source-position", -1, min: int.MinValue),
        };
        var defaults = new PatchscopeOptions();
        var options = new PatchscopeOptions
        {
            Target = command.Target is { } target ? new PatchscopeTarget(target, command.Placeholder!) : null,
            TargetLayer = IntOrNull(command.TargetLayer, "--target-layer"),
            MaxNewTokens = Int(command.MaxNewTokens, "--max-new-tokens", defaults.MaxNewTokens, min: 1),
        };
        var layers = command.Layers is null or "all" ? Enumerable.Range(0, model.Config.NumLayers).ToList() : Ints(command.Layers, "--layers");
        return Output.Of(model.Patchscope(source, layers, options, new ProgressLine(LiveLine.ForCurrentCell()), cancel));
    }

    /// <summary>Several views as one output, each under its title.</summary>
    static View Together(IReadOnlyList<View> views) => views.Count == 1
        ? views[0]
        : new View(string.Join("; ", views.Select(v => v.Title)),
            string.Concat(views.Select(v => new HtmlBuilder().Element("h3", v.Title).Raw(v.Html).ToString())),
            string.Join("\n", views.Select(v => v.Title + "\n" + v.Text)),
            views.Any(v => v.HasCharts));
}
