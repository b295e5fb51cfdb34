using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Cli.Commands;

/// <summary>The <c>--model</c> and <c>--dtype</c> options every model verb shares.</summary>
static class ModelArgs
{
    public const string ModelUsage = "[--model DIR|ORG/NAME[@REV]|tiny]";
    public const string Usage = $"{ModelUsage} [--dtype float32|bfloat16]";

    public static readonly string[] Options = ["model", "dtype"];

    /// <summary>The model named by <c>--model</c>; without it, the model inside NotebookLens.</summary>
    public static string Name(CliArgs args) => args.Get("model") ?? EmbeddedModel.Name;

    /// <summary>
    /// The folder of <c>--model</c>: a folder as given, the unpacked embedded model, or a hub id's snapshot in the Hugging Face cache, downloaded
    /// there first (progress on standard error) when it lacks what <paramref name="parts"/> needs.
    /// </summary>
    public static string Resolve(CliArgs args, CliIO io, ModelParts parts) =>
        ModelLocator.Resolve(Name(args), parts, progress: new DownloadReporter(io.Error, io.Interactive));

    public static LanguageModel Load(CliArgs args, string folder)
    {
        var dtype = args.Get("dtype");
        return LanguageModel.Load(folder, LoadOptionsOf(dtype));
    }

    /// <summary>The model with its tokenizer, for the analysis verbs (a hub model is downloaded first, with progress).</summary>
    public static LensModel LoadLens(CliArgs args, CliIO io) =>
        LensModel.Load(Name(args), LoadOptionsOf(args.Get("dtype")) with { DownloadProgress = new DownloadReporter(io.Error, io.Interactive) });

    static LoadOptions LoadOptionsOf(string? dtype) => new() { DType = dtype is null ? null : DTypes.ParseCompute(dtype) };
}
