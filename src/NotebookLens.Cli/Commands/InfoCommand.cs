using System.CommandLine;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>info</c>: the model's view (architecture, parameter count; with <c>--parameters</c> every parameter, grouped by layer).</summary>
public sealed class InfoCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<bool> _parameters;
    readonly ViewOutput _output;

    public InfoCommand(CliIO io) : base(io, "info", "Shows a model's architecture and size: layers, hidden size, attention heads, vocabulary, number of parameters.",
        "info", "info --model meta-llama/Llama-3.2-1B-Instruct --parameters")
    {
        _model = new ModelArgs(this);
        _parameters = Declare(CliOptions.Flag("--parameters", "Also list every parameter (weight matrix) with its name, shape and dtype, grouped by layer."));
        _output = new ViewOutput(this, json: "the architecture's numbers (model_type, num_layers, num_parameters, hidden_size, vocab_size, ...) and how the engine runs here (engine)", html: false);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        bool parameters = args.GetValue(_parameters);
        using var model = _model.Load(args, _model.Resolve(args, io, ModelParts.Weights));
        var reference = new ModelRef(LensModel.DefaultName(_model.Name(args)), _model.Name(args), model.Config.ModelType, DTypes.Name(model.DType), model.Device.ToString());
        _output.Write(args, io, $"model {reference.Name}", [ModelView.Create(model.Config, model.Parameters, reference, listParameters: parameters, engine: LensModel.Engine)], () => Summary(model, parameters));
        return 0;
    }

    static Dictionary<string, object?> Summary(LanguageModel model, bool parameters)
    {
        var c = model.Config;
        var summary = new Dictionary<string, object?>
        {
            ["model_type"] = c.ModelType,
            ["family"] = c.Family.ToString().ToLowerInvariant(),
            ["num_layers"] = c.NumLayers,
            ["num_parameters"] = model.NumParameters,
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_attention_heads"] = c.NumHeads,
            ["num_key_value_heads"] = c.NumKeyValueHeads,
            ["head_dim"] = c.HeadDim,
            ["vocab_size"] = c.VocabSize,
            ["tie_word_embeddings"] = model.TiedEmbeddings,
            ["dtype"] = DTypes.Name(model.DType),
            ["sliding_window"] = c.SlidingWindow,
            ["layer_types"] = c.SlidingLayers.Select(s => s ? "sliding_attention" : "full_attention").ToArray(),
            ["engine"] = LensModel.Engine,
        };
        if (parameters)
            summary["parameters"] = model.Parameters.Select(p => new Dictionary<string, object>
            {
                ["name"] = p.Name, ["shape"] = p.Shape, ["dtype"] = DTypes.Name(p.DType), ["loaded"] = p.Loaded,
            }).ToArray();
        return summary;
    }
}
