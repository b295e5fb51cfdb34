using System.Text.Json;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using NotebookLens.Views.Html;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// Each #!model subcommand in a real kernel, held to the core's tokenizer and the checkpoints' own files. The tests
/// share one kernel (starting one costs seconds) and name their model with --model, so the current model does not matter.
/// </summary>
public sealed class ModelMagicTests(SharedNotebook shared) : IClassFixture<SharedNotebook>
{
    Task<Submission> Submit(string code) => shared.Notebook.SubmitAsync(code);

    /// <summary>The model argument for a fixture folder (tiny is embedded).</summary>
    public static TheoryData<string> Models => new() { "tiny", "llama3-tiny", "gemma3-tiny" };

    static string Source(string model) => model == "tiny" ? "tiny" : Repo.Fixture(model);

    /// <summary>Loads a fixture under a name once (tiny needs no load: it is the default).</summary>
    async Task<string> Load(string model)
    {
        if (model == "tiny") return "tiny";
        var name = model.Replace('-', '_');
        if ((await Submit("#!model list")).Html.Contains($"<td>{name}</td>")) return name;
        (await Submit($"#!model load {Source(model)} --name {name}")).AssertSucceeded();
        return name;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Tokens_shows_the_tokenizers_ids_and_text(string model)
    {
        var name = await Load(model);
        const string text = "The apple is red. 苹果是红色的。";
        var cell = (await Submit($"#!model tokens \"{text}\" --model {name}")).AssertSucceeded();
        TokenView.AssertChips(cell.Html, HfTokenizer.Load(Source(model)).Tokenize(text));
        Assert.Contains("tokens", cell.Text);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Chat_renders_the_template_and_its_tokens(string model)
    {
        var name = await Load(model);
        var cell = (await Submit($"#!model chat \"What colour is the sky?\" --system \"Answer briefly.\" --model {name}")).AssertSucceeded();
        var tokenizer = HfTokenizer.Load(Source(model));
        // Gemma's template has no system role of its own: it folds the system text into the user turn.
        var prompt = tokenizer.ApplyChatTemplate([new("system", "Answer briefly."), new("user", "What colour is the sky?")], addGenerationPrompt: true);
        TokenView.AssertChips(cell.Html, tokenizer.Tokenize(prompt, addSpecialTokens: false));
        Assert.Contains(HtmlBuilder.Escape(prompt), cell.Html);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Info_and_params_show_the_checkpoint(string model)
    {
        var name = await Load(model);
        var folder = model == "tiny" ? Loading.EmbeddedModel.Tiny.Folder() : Source(model);
        var config = ModelConfig.Load(folder);
        var info = (await Submit($"#!model info --model {name}")).AssertSucceeded();
        Assert.Contains($"<dt>layers</dt><dd>{config.NumLayers}</dd>", info.Html);
        Assert.Contains($"<dt>hidden size</dt><dd>{config.HiddenSize}</dd>", info.Html);
        // How the kernel process runs it: libtorch's set-up and which products NotebookLens's own kernels take.
        Assert.Contains("nl-engine", info.Html);
        Assert.Contains("bf16 products", info.Html);
        Assert.Contains("fp32 products", info.Html);

        // The checkpoint's own header: names and shapes of the layer-0 tensors.
        var expected = SafeTensorsHeader(Path.Combine(folder, "model.safetensors"))
            .Where(t => t.Name.Contains("layers.0.", StringComparison.Ordinal)).ToList();
        var cell = (await Submit($"#!model params layers.0. --model {name}")).AssertSucceeded();
        Assert.NotEmpty(expected);
        foreach (var (tensor, shape) in expected)
        {
            Assert.Contains($">{tensor}<", cell.Html);
            Assert.Contains(Format.Shape(shape), cell.Html);
        }
        Assert.DoesNotContain("layers.1.", cell.Html);
        Assert.Contains(HtmlBuilder.Escape($"{expected.Count} parameters of {name} have 'layers.0.' in their name."), cell.Html);
    }

    static List<(string Name, long[] Shape)> SafeTensorsHeader(string file)
    {
        using var stream = File.OpenRead(file);
        var length = new byte[8];
        stream.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        stream.ReadExactly(header);
        using var json = JsonDocument.Parse(header);
        return json.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Select(p => (p.Name, p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToList();
    }

    [Fact]
    public async Task Weights_shows_the_parameter_and_as_keeps_it()
    {
        var cell = (await Submit("#!model weights model.embed_tokens.weight --rows 2 --cols 3 --as embeddings --model tiny")).AssertSucceeded();
        // Held to the checkpoint read by the core on its own.
        using var model = LanguageModel.Load(Loading.EmbeddedModel.Tiny.Folder());
        using var weight = model.Parameter("model.embed_tokens.weight");
        Assert.Contains($"<dt>shape</dt><dd>{Format.Shape(weight.shape)}</dd>", cell.Html);
        Assert.Contains("<template", cell.Html); // the heatmap
        var kept = (TorchSharp.torch.Tensor)(await Submit("embeddings")).AssertSucceeded().ReturnValue!;
        Assert.Equal(weight.shape, kept.shape);
        Assert.Equal(weight[1, 2].to(TorchSharp.torch.ScalarType.Float32).item<float>(), kept[1, 2].to(TorchSharp.torch.ScalarType.Float32).item<float>());
    }

    [Fact]
    public async Task Weights_takes_the_text_model_names_of_a_multimodal_checkpoint()
    {
        // Gemma 3's 4B stores its text model under language_model.: a copy of the Gemma fixture laid out that way.
        var dir = Directory.CreateTempSubdirectory("notebooklens-multimodal-").FullName;
        try
        {
            var fixture = Repo.Fixture("gemma3-tiny");
            foreach (var file in Directory.GetFiles(fixture).Where(f => Path.GetFileName(f) is not ("model.safetensors" or "config.json")))
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            var text = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(fixture, "config.json")))!;
            File.WriteAllText(Path.Combine(dir, "config.json"), new System.Text.Json.Nodes.JsonObject { ["model_type"] = "gemma3", ["text_config"] = text }.ToJsonString());
            using (var checkpoint = Checkpoint.Open(fixture))
            {
                var tensors = checkpoint.Tensors.Select(t => KeyValuePair.Create("language_model." + t.Name, checkpoint.Read(t.Name))).ToList();
                Loading.SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
                foreach (var (_, tensor) in tensors) tensor.Dispose();
            }
            (await Submit($"#!model load {dir} --name multimodal")).AssertSucceeded();
            var cell = (await Submit("#!model weights model.embed_tokens.weight --rows 2 --cols 3 --model multimodal")).AssertSucceeded();
            using var model = LanguageModel.Load(fixture);
            using var weight = model.Parameter("model.embed_tokens.weight");
            Assert.Contains($"<dt>shape</dt><dd>{Format.Shape(weight.shape)}</dd>", cell.Html);
            (await Submit("#!model weights language_model.model.norm.weight --model multimodal")).AssertSucceeded();
            Assert.Contains("multimodal has no parameter 'model.no_such.weight'", (await Submit("#!model weights model.no_such.weight --model multimodal")).AssertFailed());
        }
        finally
        {
            await Submit("#!model unload multimodal"); // (not asserted: a failed load above is the error to see)
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task As_puts_the_typed_result_into_a_csharp_variable()
    {
        const string text = "Hello world";
        (await Submit($"#!model tokens \"{text}\" --as tokens --model tiny")).AssertSucceeded();
        var expected = HfTokenizer.Load("tiny").Encode(text);
        Assert.Equal(expected.Count, (await Submit("tokens.Count")).AssertSucceeded().ReturnValue);
        Assert.Equal(expected[^1], (await Submit("tokens.Tokens[^1].Id")).AssertSucceeded().ReturnValue);
    }

    [Fact]
    public async Task Alone_it_shows_the_subcommands()
    {
        var cell = (await Submit("#!model")).AssertSucceeded();
        foreach (var subcommand in new[] { "load", "list", "use", "unload", "info", "params", "tokens", "chat", "weights" })
            Assert.Contains($"<td>{subcommand}</td>", cell.Html);
    }

    /// <summary>What the editor offers after the cursor (the end of <paramref name="code"/>).</summary>
    async Task<IReadOnlyList<string>> Completions(string code)
    {
        var request = new RequestCompletions(code, new Microsoft.DotNet.Interactive.LinePosition(0, code.Length));
        var result = await shared.Notebook.Kernel.SendAsync(request);
        return result.Events.OfType<CompletionsProduced>().SelectMany(e => e.Completions).Select(c => c.DisplayText).ToList();
    }

    [Fact]
    public async Task Completions_offer_subcommands_loaded_models_and_options()
    {
        var subcommands = await Completions("#!model ");
        Assert.Superset(new HashSet<string> { "load", "list", "use", "unload", "info", "params", "tokens", "chat", "weights" }, subcommands.ToHashSet());

        var name = await Load("llama3-tiny");
        Assert.Contains(name, await Completions("#!model use "));
        Assert.Contains(name, await Completions("#!model info --model "));

        var options = await Completions("#!model chat \"hi\" ");
        Assert.Superset(new HashSet<string> { "--system", "--model", "--as" }, options.ToHashSet());
        Assert.Superset(new HashSet<string> { "bfloat16", "float32" }, (await Completions("#!model load tiny --dtype ")).ToHashSet());
    }

    /// <summary>Bad input: an error that says what to do, and the next cell works.</summary>
    [Theory]
    [InlineData("#!model load /no/such/folder", "Model folder not found: /no/such/folder")]
    [InlineData("#!model frobnicate", "Unknown subcommand 'frobnicate'")]
    [InlineData("#!model tokens \"hi\" --bogus 3", "Unknown option '--bogus' for #!model tokens")]
    [InlineData("#!model --bogus tokens \"hi\"", "Unrecognized parameter name '--bogus'")]
    [InlineData("#!model tokens", "#!model tokens needs the text to tokenize. For example: #!model tokens \"Hello world\"")]
    [InlineData("#!model tokens Hello world", "Put text with spaces in double quotes")]
    [InlineData("#!model tokens \"hi\" --as", "Option --as needs a value")]
    [InlineData("#!model tokens \"hi\" --as 2x", "'2x' cannot be the --as variable")]
    [InlineData("#!model load tiny --dtype float64", "Use --dtype bfloat16 or --dtype float32")]
    [InlineData("#!model load tiny --device cuda", "this process runs libtorch's CPU build (the TorchSharp-cpu package)")]
    [InlineData("#!model load tiny --name gputiny --device cuda:1", "TorchSharp-cuda-linux 0.107.0")]
    [InlineData("#!model load tiny --device gpu", "'gpu' is not a device NotebookLens runs on. Use cpu, cuda or cuda:N")]
    [InlineData("#!model use nobody", "Load it first (#!model load FOLDER_OR_HUB_ID --name NAME)")]
    [InlineData("#!model weights no.such.weight --model tiny", "tiny has no parameter 'no.such.weight'")]
    [InlineData("#!model weights model.norm.weight --rows many", "--rows must be a whole number ≥ 1")]
    [InlineData("#!model params zzz", "Run #!model params without a filter")]
    public async Task A_mistake_fails_with_what_to_do_and_the_next_cell_works(string code, string message)
    {
        var failure = (await Submit(code)).AssertFailed();
        Assert.Contains(message, failure);
        Assert.DoesNotContain("   at ", failure); // no stack trace
        (await Submit("#!model tokens \"hi\"")).AssertSucceeded();
        Assert.Equal(2, (await Submit("1 + 1")).AssertSucceeded().ReturnValue);
    }
}

/// <summary>One kernel for a test class.</summary>
public sealed class SharedNotebook : IAsyncLifetime
{
    internal NotebookKernel Notebook { get; private set; } = null!;

    public async Task InitializeAsync() => Notebook = await NotebookKernel.StartAsync();

    public Task DisposeAsync()
    {
        Notebook.Dispose();
        return Task.CompletedTask;
    }
}
