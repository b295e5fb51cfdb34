using System.CommandLine;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Cli.Commands;

/// <summary>The <c>--model</c>, <c>--dtype</c> and <c>--device</c> options every model verb shares, and the model they name.</summary>
sealed class ModelArgs
{
    readonly Option<string> _model;
    readonly Option<string>? _dtype;
    readonly Option<string>? _device;

    /// <param name="dtype">The verb runs the model (not only its tokenizer), so it takes <c>--dtype</c> and <c>--device</c>.</param>
    public ModelArgs(Verb verb, bool dtype = true)
    {
        _model = verb.Declare(CliOptions.Value("--model", "DIR|ORG/NAME[@REV]|tiny|tiny-gemma",
            "The model: a folder with config.json and the weights, a Hugging Face hub id such as meta-llama/Llama-3.2-1B-Instruct "
            + "(downloaded into the Hugging Face cache the first time), or a small model inside NotebookLens: tiny (Llama 3.2's architecture) or tiny-gemma (Gemma 3's).",
            name => name).Default(EmbeddedModel.Tiny.Name));
        // Not checked here: a dtype the core does not run in is a problem with the input (exit 1), and the core says which ones it runs in.
        if (!dtype) return;
        _dtype = verb.Declare(CliOptions.Text("--dtype", "float32|bfloat16",
            "The number format to compute in: float32 (exact, matches the Python reference) or bfloat16 (half the memory). Default: the checkpoint's own."));
        // Not checked here either: whether this process can use the device is known only to the core.
        _device = verb.Declare(CliOptions.Text("--device", "cpu|cuda|cuda:N",
            "Where to compute: cpu, or a GPU (cuda, cuda:1, ...) when NotebookLens was built with libtorch's CUDA build.").Default("cpu"));
    }

    /// <summary>The model named by <c>--model</c>; without it, the model inside NotebookLens.</summary>
    public string Name(ParseResult args) => args.GetValue(_model)!;

    /// <summary>
    /// The folder of <c>--model</c>: a folder as given, the unpacked embedded model, or a hub id's snapshot in the Hugging Face cache, downloaded
    /// there first (progress on standard error) when it lacks what <paramref name="parts"/> needs.
    /// </summary>
    public string Resolve(ParseResult args, CliIO io, ModelParts parts) =>
        ModelLocator.Resolve(Name(args), parts, progress: new DownloadReporter(io.Error, io.Interactive));

    public LanguageModel Load(ParseResult args, string folder) => LanguageModel.Load(folder, LoadOptions(args));

    /// <summary>The model with its tokenizer, for the analysis verbs (a hub model is downloaded first, with progress).</summary>
    public LensModel LoadLens(ParseResult args, CliIO io) =>
        LensModel.Load(Name(args), LoadOptions(args) with { DownloadProgress = new DownloadReporter(io.Error, io.Interactive) });

    LoadOptions LoadOptions(ParseResult args) => new()
    {
        DType = _dtype is not null && args.GetValue(_dtype) is { } dtype ? DTypes.ParseCompute(dtype) : null,
        Device = _device is not null ? args.GetValue(_device)! : "cpu",
    };
}
