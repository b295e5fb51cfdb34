using NotebookLens.Training;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>train-tiny</c>: makes the embedded model from nothing (curriculum, tokenizer, weights) into a folder, with the
/// committed model's recipe unless options change it. Progress goes to standard error every 50 steps.
/// </summary>
public sealed class TrainTinyCommand : ICommand
{
    public string Name => "train-tiny";
    public string Usage => "train-tiny --out DIR [--steps N] [--seed N] [--layers N] [--hidden N] [--batch N]";
    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "out", "steps", "seed", "layers", "hidden", "batch" };
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>();

    public int Run(CliArgs args, CliIO io)
    {
        var d = TinyModelRecipe.Default;
        var recipe = d with
        {
            Steps = args.Int("steps", d.Steps, min: 1),
            Seed = args.Int("seed", d.Seed),
            Layers = args.Int("layers", d.Layers, min: 1),
            HiddenSize = args.Int("hidden", d.HiddenSize, min: 2),
            BatchSize = args.Int("batch", d.BatchSize, min: 1),
        };
        var folder = args.Require("out");
        var progress = new Progress(io.Error);
        TinyModelTrainer.Run(recipe, folder, progress, io.Error);
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
