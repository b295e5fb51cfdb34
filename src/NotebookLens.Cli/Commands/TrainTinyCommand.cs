using System.CommandLine;
using NotebookLens.Training;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>train-tiny</c>: makes the embedded model from nothing (curriculum, tokenizer, weights) into a folder, with the
/// committed model's recipe unless options change it. Progress goes to standard error every 50 steps.
/// </summary>
public sealed class TrainTinyCommand : Verb
{
    readonly Option<string> _out;
    readonly Option<int> _steps, _seed, _layers, _hidden, _batch;

    public TrainTinyCommand(CliIO io) : base(io, "train-tiny",
        "Makes the tiny model inside NotebookLens from nothing: its training texts, its tokenizer and its weights, written into a folder (the committed model's recipe unless options change it). Progress goes to standard error.",
        "train-tiny --out my-tiny", "train-tiny --out quick --steps 200 --layers 2")
    {
        var recipe = TinyModelRecipe.Default;
        _out = Declare(CliOptions.Text("--out", "DIR", "The folder to write the model into (config.json, tokenizer.json, model.safetensors).").Required());
        _steps = Declare(CliOptions.Int("--steps", "N", "Training steps.", min: 1).Default(recipe.Steps));
        _seed = Declare(CliOptions.Int("--seed", "N", "Seed of the texts' sampling and the weights' initialisation.").Default(recipe.Seed));
        _layers = Declare(CliOptions.Int("--layers", "N", "Number of transformer layers.", min: 1).Default(recipe.Layers));
        _hidden = Declare(CliOptions.Int("--hidden", "N", "Hidden size (the length of each token's vector).", min: 2).Default(recipe.HiddenSize));
        _batch = Declare(CliOptions.Int("--batch", "N", "Sequences per training step.", min: 1).Default(recipe.BatchSize));
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var recipe = TinyModelRecipe.Default with
        {
            Steps = args.GetValue(_steps),
            Seed = args.GetValue(_seed),
            Layers = args.GetValue(_layers),
            HiddenSize = args.GetValue(_hidden),
            BatchSize = args.GetValue(_batch),
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
