using System.Globalization;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Interactive.Commands;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using Usage = NotebookLens.Interactive.ModelMagic.Usage;

namespace NotebookLens.Interactive;

/// <summary>What each <c>#!model</c> subcommand does, on top of <see cref="ModelMagic"/>'s plumbing.</summary>
static class ModelSubcommands
{
    static readonly string[] DTypeNames = ["bfloat16", "float32"];
    static readonly string[] DeviceNames = ["cpu", "cuda"];

    public static void AddAll(ModelMagic magic)
    {
        magic.Add<ModelLoadCommand>(
            new("load", "load MODEL [--name N] [--dtype bfloat16|float32] [--device cpu|cuda]",
                "Loads a model folder, a Hugging Face hub id or tiny, makes it current and a C# variable (LensModel) under its name."),
            [
                Implicit("--source", "A model folder, a hub id (org/name[@revision]) or tiny").AddCompletions(() => ["tiny"]),
                new("--name", "The model's name and C# variable (default: from the folder or repository name)"),
                new KernelDirectiveParameter("--dtype", "Weights and compute dtype (default: as stored)").AddCompletions(() => DTypeNames),
                new KernelDirectiveParameter("--device", "cpu (default) or cuda").AddCompletions(() => DeviceNames),
            ],
            (command, context) => LoadAsync(magic, command, context));

        magic.Add<ModelListCommand>(new("list", "list", "Lists the loaded models; * marks the current one."), [],
            (_, _) => Task.FromResult(List(magic.Session)));

        magic.Add<ModelUseCommand>(new("use", "use N", "Makes a loaded model the current one."),
            [magic.WithModelNames(Implicit("--name", "A loaded model"))],
            (command, _) =>
            {
                magic.Session.Use(Required(command.Name, "use", "the name of a loaded model", "#!model use tiny"));
                return Task.FromResult(List(magic.Session));
            });

        magic.Add<ModelUnloadCommand>(new("unload", "unload N", "Frees a loaded model (its C# variable can no longer be used)."),
            [magic.WithModelNames(Implicit("--name", "A loaded model"))],
            (command, _) =>
            {
                magic.Session.Unload(Required(command.Name, "unload", "the name of a loaded model", "#!model unload tiny"));
                return Task.FromResult(List(magic.Session));
            });

        magic.AddAnalysis<ModelInfoCommand>(new("info", "info", "Shows the model's architecture."), [],
            (_, model, _) => Info(model));

        magic.AddAnalysis<ModelParamsCommand>(new("params", "params [FILTER]", "Lists the parameters (name, shape, dtype, count); FILTER keeps names containing it."),
            [Implicit("--filter", "Keep parameters whose name contains this text, e.g. layers.0.")],
            (command, model, _) => Params(model, command.Filter));

        magic.AddAnalysis<ModelTokensCommand>(new("tokens", "tokens TEXT", "Splits TEXT into tokens as the model's tokenizer does (quote text with spaces)."),
            [Implicit("--text", "The text to tokenize, in quotes")],
            (command, model, _) =>
            {
                var text = Required(command.Text, "tokens", "the text to tokenize", "#!model tokens \"Hello world\"");
                var tokens = model.Model.Tokenizer.Tokenize(text);
                return TokenTable(model, $"{tokens.Count} tokens of \"{text}\"", tokens);
            });

        magic.AddAnalysis<ModelChatCommand>(new("chat", "chat TEXT [--system S]", "Renders a one-turn chat prompt with the model's chat template and shows its tokens."),
            [Implicit("--text", "The user's message, in quotes"), new("--system", "A system message")],
            (command, model, _) =>
            {
                var text = Required(command.Text, "chat", "the user's message", "#!model chat \"What is the capital of France?\"");
                IEnumerable<ChatMessage> messages = command.System is null ? [new("user", text)] : [new("system", command.System), new("user", text)];
                var prompt = model.Model.Tokenizer.ApplyChatTemplate(messages, addGenerationPrompt: true);
                // The template writes the special tokens itself.
                var tokens = model.Model.Tokenizer.Tokenize(prompt, addSpecialTokens: false);
                return TokenTable(model, $"Chat prompt ({tokens.Count} tokens):\n{prompt}", tokens);
            });

        magic.AddAnalysis<ModelWeightsCommand>(new("weights", "weights NAME [--rows R] [--cols C]", "Shows the top-left R x C block (default 8 x 8) of a parameter."),
            [
                Implicit("--name", "A parameter name as #!model params lists it"),
                new("--rows", "Rows to show (default 8)"),
                new("--cols", "Columns to show (default 8)"),
            ],
            (command, model, _) => Weights(model, command));
    }

    static KernelDirectiveParameter Implicit(string name, string description) => new(name, description) { AllowImplicitName = true };

    static async Task<Output> LoadAsync(ModelMagic magic, ModelLoadCommand command, KernelInvocationContext context)
    {
        var source = Required(command.Source, "load", "a model folder, a hub id or tiny", "#!model load tiny");
        var dtype = command.Dtype switch
        {
            null => (ScalarType?)null,
            "bfloat16" => ScalarType.BFloat16,
            "float32" => ScalarType.Float32,
            var other => throw new MagicException($"Unknown dtype '{other}'.", "Use --dtype bfloat16 or --dtype float32 (or leave it out to keep the stored dtype)."),
        };
        var device = command.Device ?? "cpu";
        if (!DeviceNames.Contains(device))
            throw new MagicException($"Unknown device '{device}'.", "Use --device cpu or --device cuda.");
        var progress = new LoadProgress(context);
        var loaded = await magic.LoadAsync(context, source, command.Name, dtype, device, progress);
        progress.Done();
        var model = loaded.Model.Model;
        return new Output(loaded.Model, $"Loaded {source} as {loaded.Name} (C# variable {loaded.Name}, a LensModel; now the current model)",
            ["name", "type", "layers", "parameters", "dtype", "device"],
            [[loaded.Name, model.Config.ModelType, Count(model.Config.NumLayers), Count(model.NumParameters), DTypes.Name(model.DType), model.Device.ToString()]]);
    }

    static Output List(ModelSession session) =>
        new(session.Models,
            session.Models.Count == 0 ? "No model loaded: commands use tiny (loaded on first use)." : $"Loaded models: {session.Models.Count}",
            ["", "name", "source", "type", "parameters"],
            [.. session.Models.Select(m => (IReadOnlyList<string>)
                [m.Name == session.Current ? "*" : "", m.Name, m.Source, m.Model.Config.ModelType, Count(m.Model.Model.NumParameters)])]);

    static Output Info(LoadedModel loaded)
    {
        var c = loaded.Model.Config;
        var m = loaded.Model.Model;
        return new Output(c, $"{loaded.Name}: {c.ModelType} from {loaded.Source}", ["property", "value"],
        [
            ["layers", Count(c.NumLayers)], ["hidden size", Count(c.HiddenSize)], ["MLP size", Count(c.IntermediateSize)],
            ["attention heads", $"{c.NumHeads} (key/value heads {c.NumKeyValueHeads}, head size {c.HeadDim})"],
            ["vocabulary", Count(c.VocabSize)], ["tied embeddings", c.TieWordEmbeddings ? "yes" : "no"],
            ["parameters", Count(m.NumParameters)], ["dtype", DTypes.Name(m.DType)], ["device", m.Device.ToString()],
        ]);
    }

    static Output Params(LoadedModel loaded, string? filter)
    {
        var parameters = loaded.Model.Model.Parameters
            .Where(p => filter is null || p.Name.Contains(filter, StringComparison.Ordinal)).ToList();
        if (parameters.Count == 0)
            throw new MagicException($"No parameter of {loaded.Name} has '{filter}' in its name.",
                "Run #!model params without a filter to see every name.");
        return new Output(parameters,
            $"{parameters.Count} parameters of {loaded.Name}{(filter is null ? "" : $" matching '{filter}'")}, {Count(parameters.Sum(p => p.ElementCount))} values",
            ["name", "shape", "dtype", "count"],
            [.. parameters.Select(p => (IReadOnlyList<string>)[p.Name, $"[{string.Join(", ", p.Shape)}]", DTypes.Name(p.DType), Count(p.ElementCount)])]);
    }

    static Output TokenTable(LoadedModel loaded, string title, IReadOnlyList<TextToken> tokens) =>
        new(tokens, $"{loaded.Name}: {title}", ["#", "id", "text", "raw", "special"],
            [.. tokens.Select((t, i) => (IReadOnlyList<string>)[Count(i), Count(t.Id), t.Text, t.Raw, t.Special ? "yes" : ""])]);

    static Output Weights(LoadedModel loaded, ModelWeightsCommand command)
    {
        var name = Required(command.Name, "weights", "a parameter name", "#!model weights model.embed_tokens.weight");
        if (loaded.Model.Model.Parameters.All(p => p.Name != name))
            throw new MagicException($"{loaded.Name} has no parameter '{name}'.", $"Run #!model params {name.Split('.').FirstOrDefault()} to see the names.");
        var rows = Positive(command.Rows, "--rows", 8);
        var cols = Positive(command.Cols, "--cols", 8);
        var weight = loaded.Model.Model.Parameter(name);
        var matrix = weight.dim() == 1 ? weight.unsqueeze(0) : weight.flatten(1);
        var block = matrix.narrow(0, 0, Math.Min(rows, matrix.shape[0])).narrow(1, 0, Math.Min(cols, matrix.shape[1]))
            .to(ScalarType.Float32).cpu();
        var values = Enumerable.Range(0, (int)block.shape[0])
            .Select(r => block[r].data<float>().ToArray()).ToArray();
        return new Output(values,
            $"{name} [{string.Join(", ", weight.shape)}] {DTypes.Name(weight.dtype)}: top-left {values.Length} x {block.shape[1]}",
            [.. Enumerable.Range(0, (int)block.shape[1]).Select(c => Count(c))],
            [.. values.Select(row => (IReadOnlyList<string>)[.. row.Select(v => v.ToString("G4", CultureInfo.InvariantCulture))])]);
    }

    static string Required(string? value, string subcommand, string what, string example) =>
        string.IsNullOrEmpty(value)
            ? throw new MagicException($"#!model {subcommand} needs {what}.", $"For example: {example}")
            : value;

    static int Positive(string? value, string option, int fallback)
    {
        if (value is null) return fallback;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new MagicException($"{option} must be a positive whole number, not '{value}'.", $"For example: {option} {fallback}");
    }

    static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A download's progress as one line in the cell, updated in place.</summary>
    sealed class LoadProgress(KernelInvocationContext context) : IProgress<NotebookLens.Loading.DownloadProgress>
    {
        DisplayedValue? _line;

        public void Report(NotebookLens.Loading.DownloadProgress value)
        {
            var remaining = value.Remaining is { } r ? $", {r:mm\\:ss} left" : "";
            var text = $"Downloading {value.RepoId}: file {value.FileNumber}/{value.FileCount} {value.File}, " +
                       $"{value.BytesDone / 1e6:F1} of {value.BytesTotal / 1e6:F1} MB ({value.Fraction:P0}){remaining}";
            if (_line is null) _line = KernelInvocationContextExtensions.Display(context, text, PlainTextFormatter.MimeType);
            else _line.Update(text);
        }

        public void Done() => _line?.Update("Downloaded.");
    }
}
