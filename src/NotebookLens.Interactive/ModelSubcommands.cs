using System.Globalization;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Interactive.Commands;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Views;
using static TorchSharp.torch;
using Usage = NotebookLens.Interactive.ModelMagic.Usage;

using static NotebookLens.Interactive.OptionValues;

namespace NotebookLens.Interactive;

/// <summary>What each <c>#!model</c> subcommand does, on top of <see cref="ModelMagic"/>'s plumbing.</summary>
static class ModelSubcommands
{
    static readonly string[] DTypeNames = ["bfloat16", "float32"];
    static readonly string[] EmbeddedNames = [.. EmbeddedModel.All.Select(m => m.Name)];
    static readonly string[] DeviceNames = ["cpu", "cuda"];

    public static void AddAll(ModelMagic magic)
    {
        magic.Add<ModelLoadCommand>(
            new("load", "load MODEL [--name N] [--dtype bfloat16|float32] [--device cpu|cuda|cuda:N]",
                "Loads a model folder, a Hugging Face hub id or an embedded model (tiny, tiny-gemma), makes it current and a C# variable (LensModel) under its name."),
            [
                Implicit("--source", "A model folder, a hub id (org/name[@revision]), tiny or tiny-gemma").AddCompletions(() => EmbeddedNames),
                new("--name", "The model's name and C# variable (default: from the folder or repository name)"),
                new KernelDirectiveParameter("--dtype", "Weights and compute dtype (default: as stored)").AddCompletions(() => DTypeNames),
                new KernelDirectiveParameter("--device", "cpu (default), cuda or cuda:N").AddCompletions(() => DeviceNames),
            ],
            (command, context) => LoadAsync(magic, command, context));

        magic.Add<ModelListCommand>(new("list", "list", "Lists the loaded models; * marks the current one."), [],
            (_, _) => Task.FromResult(List(magic.Registry)));

        magic.Add<ModelUseCommand>(new("use", "use N", "Makes a loaded model the current one."),
            [magic.WithModelNames(Implicit("--name", "A loaded model"))],
            (command, _) =>
            {
                magic.Registry.Use(Required(command.Name, "use", "the name of a loaded model", "#!model use tiny"));
                return Task.FromResult(List(magic.Registry));
            });

        magic.Add<ModelUnloadCommand>(new("unload", "unload N", "Frees a loaded model (its C# variable can no longer be used)."),
            [magic.WithModelNames(Implicit("--name", "A loaded model"))],
            (command, _) =>
            {
                var name = Required(command.Name, "unload", "the name of a loaded model", "#!model unload tiny");
                if (!magic.Registry.Unload(name))
                    throw new MagicException($"No model named '{name}' is loaded.", "#!model list shows the loaded models.");
                return Task.FromResult(List(magic.Registry));
            });

        magic.AddAnalysis<ModelInfoCommand>(new("info", "info", "Shows the model's architecture."), [],
            (_, model, _) => Output.Of(model.Summary()));

        magic.AddAnalysis<ModelParamsCommand>(new("params", "params [FILTER]", "Lists the parameters (name, shape, dtype, count); FILTER keeps names containing it."),
            [Implicit("--filter", "Keep parameters whose name contains this text, e.g. layers.0.")],
            (command, model, _) => Params(model, command.Filter));

        magic.AddAnalysis<ModelTokensCommand>(new("tokens", "tokens TEXT", "Splits TEXT into tokens as the model's tokenizer does (quote text with spaces)."),
            [Implicit("--text", "The text to tokenize, in quotes")],
            (command, model, _) =>
            {
                var text = Required(command.Text, "tokens", "the text to tokenize", "#!model tokens \"Hello world\"");
                return Output.Of(model.Prompt(text));
            });

        magic.AddAnalysis<ModelChatCommand>(new("chat", "chat TEXT [--system S]", "Renders a one-turn chat prompt with the model's chat template and shows its tokens."),
            [Implicit("--text", "The user's message, in quotes"), new("--system", "A system message")],
            (command, model, _) =>
            {
                var text = Required(command.Text, "chat", "the user's message", "#!model chat \"What is the capital of France?\"");
                return Output.Of(model.ChatPrompt(text, command.System));
            });

        magic.AddAnalysis<ModelWeightsCommand>(new("weights", "weights NAME [--rows R] [--cols C]", "Shows a parameter: statistics, values, and its top-left R x C block (default 100 x 100) as a heatmap."),
            [
                Implicit("--name", "A parameter name as #!model params lists it"),
                new("--rows", "Rows of the heatmap (default 100)"),
                new("--cols", "Columns of the heatmap (default 100)"),
            ],
            (command, model, _) => Weights(model, command));

        AnalysisSubcommands.AddAnalyses(magic);
        RemoteSubcommands.AddAll(magic);
    }

    static KernelDirectiveParameter Implicit(string name, string description) => new(name, description) { AllowImplicitName = true };

    static async Task<Output> LoadAsync(ModelMagic magic, ModelLoadCommand command, KernelInvocationContext context)
    {
        var source = Required(command.Source, "load", "a model folder, a hub id, tiny or tiny-gemma", "#!model load tiny");
        var dtype = command.Dtype switch
        {
            null => (ScalarType?)null,
            "bfloat16" => ScalarType.BFloat16,
            "float32" => ScalarType.Float32,
            var other => throw new MagicException($"Unknown dtype '{other}'.", "Use --dtype bfloat16 or --dtype float32 (or leave it out to keep the stored dtype)."),
        };
        // Checked by the core (cpu, cuda, cuda:N, and whether this process can use it), before anything is read.
        var device = command.Device ?? "cpu";
        var model = await magic.LoadAsync(context, source, command.Name, new LoadOptions { DType = dtype, Device = device }, new LoadProgress(context));
        return new Output(model, SessionViews.WithNote(
            $"Loaded {source} as {model.Name}: now the current model, and the C# variable {model.Name} (a LensModel).", LensViews.Of(model)));
    }

    static Output List(ModelRegistry registry) => new(registry.Models, SessionViews.Models(registry));

    static Output Params(LensModel model, string? filter)
    {
        var summary = model.Summary();
        var parameters = summary.Parameters.Where(p => filter is null || p.Name.Contains(filter, StringComparison.Ordinal)).ToList();
        if (parameters.Count == 0)
            throw new MagicException($"No parameter of {model.Name} has '{filter}' in its name.",
                "Run #!model params without a filter to see every name.");
        var filtered = summary with { Parameters = parameters };
        return filter is null
            ? Output.Of(filtered)
            : new Output(filtered, SessionViews.WithNote($"{parameters.Count} parameters of {model.Name} have '{filter}' in their name.", LensViews.Of(filtered)));
    }

    static Output Weights(LensModel model, ModelWeightsCommand command)
    {
        var name = Required(command.Name, "weights", "a parameter name", "#!model weights model.embed_tokens.weight");
        var rows = OptionValues.Int(command.Rows, "--rows", TensorView.DefaultHeatmapSize, min: 1);
        var cols = OptionValues.Int(command.Cols, "--cols", TensorView.DefaultHeatmapSize, min: 1);
        Tensor weight;
        try
        {
            // The core knows the names: stored ones, and the text model's plain names in a multimodal checkpoint
            // (model.embed_tokens.weight for language_model.model.embed_tokens.weight in Gemma 3's 4B).
            weight = model.Weight(name);
        }
        catch (KeyNotFoundException)
        {
            throw new MagicException($"{model.Name} has no parameter '{name}'.", $"Run #!model params {name.Split('.').FirstOrDefault()} to see the names.");
        }
        return new Output(weight, TensorView.Create(weight, name, rows, cols));
    }

    static string Count(long n) => NotebookLens.Views.Html.Format.Count(n);

    /// <summary>A load's progress (download, then load) as one line in the cell, updated in place.</summary>
    sealed class LoadProgress(KernelInvocationContext context) : IProgress<LensProgress>
    {
        DisplayedValue? _line;

        public void Report(LensProgress value)
        {
            var done = value.Unit == "B" ? $"{value.Done / 1e6:F1}" : Count(value.Done);
            var total = value.Total is { } t ? " of " + (value.Unit == "B" ? $"{t / 1e6:F1} MB" : $"{Count(t)} {value.Unit}") : "";
            var left = value.Remaining is { } r && !value.Finished ? $", {r:mm\\:ss} left" : "";
            var text = $"{value.Stage} {value.Detail}: {done}{total}{left}";
            if (_line is null) _line = KernelInvocationContextExtensions.Display(context, text, PlainTextFormatter.MimeType);
            else _line.Update(text);
        }
    }
}
