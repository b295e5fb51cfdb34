using NotebookLens.Models;
using NotebookLens.Tokenization;

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
        return LanguageModel.Load(folder, new LoadOptions { DType = dtype is null ? null : DTypes.ParseCompute(dtype) });
    }

    /// <summary>The model with its tokenizer (the tokenizer first: it is the quicker to fail).</summary>
    public static LensModel LoadLens(CliArgs args)
    {
        var tokenizer = HfTokenizer.Load(args.Require("model"));
        return new LensModel(Load(args), tokenizer);
    }
}
