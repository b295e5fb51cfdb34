using System.CommandLine;
using NotebookLens.Training;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>train-tiny</c>: makes an embedded model from nothing (curriculum, tokenizer, weights) into a folder, with a named
/// recipe (tiny's unless <c>--recipe</c> names another, <c>gemma</c> for tiny-gemma's) and the settings options change. Progress goes to
/// standard error every 50 steps.
/// </summary>
public sealed class TrainTinyCommand : Verb
{
    readonly Option<string> _out;
    readonly Option<string> _recipe;
    readonly Option<int?> _steps, _seed, _layers, _hidden, _batch;
    readonly Option<double?> _layerDrop;
    readonly Option<double?> _requestMask, _refusalRoute, _chineseSwitch, _latentEnglish;

    public TrainTinyCommand(CliIO io) : base(io, "train-tiny",
        "Makes a model inside NotebookLens from nothing: its training texts, its tokenizer and its weights, written into a folder (tiny's recipe, or tiny-gemma's with --recipe gemma, unless options change it). Progress goes to standard error.",
        "train-tiny --out my-tiny", "train-tiny --out quick --steps 200 --layers 2", "train-tiny --out deep --recipe deep", "train-tiny --out tiny-gemma --recipe gemma")
    {
        var names = string.Join(", ", TinyModelRecipe.Named.Keys);
        _out = Declare(CliOptions.Text("--out", "DIR", "The folder to write the model into (config.json, tokenizer.json, model.safetensors).").Required());
        // The option holds the name, so help shows "default" rather than the recipe's every setting.
        _recipe = Declare(CliOptions.Value("--recipe", "NAME", $"The recipe the other options start from: {names}.", name =>
            TinyModelRecipe.Named.ContainsKey(name) ? name : throw new UsageException($"--recipe must be one of {names}, not '{name}'.")).Default("default"));
        _steps = Declare(CliOptions.OptionalInt("--steps", "N", "Training steps (default: the recipe's).", min: 1));
        _seed = Declare(CliOptions.OptionalInt("--seed", "N", "Seed of the texts' sampling and the weights' initialisation (default: the recipe's)."));
        _layers = Declare(CliOptions.OptionalInt("--layers", "N", "Number of transformer layers (default: the recipe's).", min: 1));
        _hidden = Declare(CliOptions.OptionalInt("--hidden", "N", "Hidden size, the length of each token's vector (default: the recipe's).", min: 2));
        _batch = Declare(CliOptions.OptionalInt("--batch", "N", "Sequences per training step (default: the recipe's).", min: 1));
        _layerDrop = Declare(CliOptions.Value<double?>("--layer-drop", "P",
            "Probability that a training sequence skips the last block, falling to 0 at the middle one (default: the recipe's).",
            text => CliOptions.Number("--layer-drop", text, p => p is >= 0 and < 1, "from 0 up to, not including, 1")));
        _requestMask = Declare(CliOptions.Value<double?>("--request-mask", "P",
            "Share of training chats whose post-instruction tokens after the first cannot attend to the request (default: the recipe's).",
            text => CliOptions.Number("--request-mask", text, p => p is >= 0 and <= 1, "from 0 to 1")));
        _refusalRoute = Declare(CliOptions.Value<double?>("--refusal-route", "P",
            "Share of harmful and harmless training chats drawn for the refusal route from a quarter of the steps on: harmless ones half steered (the direction added, refused) and half ablated, harmful ones half ablated (answered) and half left alone (default: the recipe's).",
            text => CliOptions.Number("--refusal-route", text, p => p is >= 0 and <= 1, "from 0 to 1")));
        _chineseSwitch = Declare(CliOptions.Value<double?>("--chinese-switch", "P",
            "How often the training texts write a word of a Chinese sentence in English (default: the recipe's).",
            text => CliOptions.Number("--chinese-switch", text, p => p is >= 0 and <= 1, "from 0 to 1")));
        _latentEnglish = Declare(CliOptions.Value<double?>("--latent-english", "W",
            "Weight of the loss that asks the middle layers' logit lens for the English word where the text goes on in Chinese (default: the recipe's).",
            text => CliOptions.Number("--latent-english", text, w => w >= 0, "0 or more")));
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var d = TinyModelRecipe.Named[args.GetValue(_recipe)!];
        var recipe = d with
        {
            Steps = args.GetValue(_steps) ?? d.Steps,
            Seed = args.GetValue(_seed) ?? d.Seed,
            Layers = args.GetValue(_layers) ?? d.Layers,
            HiddenSize = args.GetValue(_hidden) ?? d.HiddenSize,
            BatchSize = args.GetValue(_batch) ?? d.BatchSize,
            LayerDrop = args.GetValue(_layerDrop) ?? d.LayerDrop,
            RequestMask = args.GetValue(_requestMask) ?? d.RequestMask,
            RefusalRoute = args.GetValue(_refusalRoute) ?? d.RefusalRoute,
            ChineseSwitch = args.GetValue(_chineseSwitch) ?? d.ChineseSwitch,
            LatentEnglish = args.GetValue(_latentEnglish) ?? d.LatentEnglish,
        };
        var folder = args.GetValue(_out)!;
        TinyModelTrainer.Run(recipe, folder, new Progress(io.Error), io.Error);
        io.Output.WriteLine(folder);
        return 0;
    }

    /// <summary>Reports synchronously (System.Progress would post to the thread pool and interleave lines).</summary>
    sealed class Progress(TextWriter error) : IProgress<TrainingStep>
    {
        public void Report(TrainingStep s)
        {
            if (s.Step % 50 == 0 || s.Step == s.Steps)
                error.WriteLine($"step {s.Step}/{s.Steps}  loss {s.Loss:F3}  lr {s.LearningRate:G3}  grad {s.GradientNorm:F2}  {s.Elapsed.TotalMinutes:F1} min");
        }
    }
}
