using NotebookLens.Models;

namespace NotebookLens.Cli.Commands;

/// <summary>The <c>--model</c> and <c>--dtype</c> options every model verb shares.</summary>
static class ModelArgs
{
    public const string Usage = "--model DIR [--dtype float32|bfloat16]";

    public static readonly string[] Options = ["model", "dtype"];

    public static LanguageModel Load(CliArgs args)
    {
        var folder = args.Require("model");
        var dtype = args.Get("dtype");
        return LanguageModel.Load(folder, LoadOptionsOf(dtype));
    }

    /// <summary>The model with its tokenizer, for the analysis verbs.</summary>
    public static LensModel LoadLens(CliArgs args) => LensModel.Load(args.Require("model"), LoadOptionsOf(args.Get("dtype")));

    static LoadOptions LoadOptionsOf(string? dtype) => new() { DType = dtype is null ? null : DTypes.ParseCompute(dtype) };
}
