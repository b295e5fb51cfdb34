using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary><c>info</c>: the model's view (architecture, parameter count; with <c>--parameters</c> every parameter, grouped by layer).</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Usage => $"info {ModelArgs.Usage} [--parameters] [--json]";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "json", "parameters" };

    public int Run(CliArgs args, CliIO io)
    {
        bool json = args.Flag("json"), parameters = args.Flag("parameters");
        using var model = ModelArgs.Load(args, ModelArgs.Resolve(args, io, ModelParts.Weights));
        var c = model.Config;
        if (json)
        {
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
            };
            if (parameters)
                summary["parameters"] = model.Parameters.Select(p => new Dictionary<string, object>
                {
                    ["name"] = p.Name, ["shape"] = p.Shape, ["dtype"] = DTypes.Name(p.DType), ["loaded"] = p.Loaded,
                }).ToArray();
            io.Output.WriteLine(CliJson.Serialize(summary));
            return 0;
        }
        var reference = new ModelRef(LensModel.DefaultName(ModelArgs.Name(args)), ModelArgs.Name(args), c.ModelType, DTypes.Name(model.DType), model.Device.ToString());
        ViewOutput.Write(args, io, $"model {reference.Name}", ModelView.Create(c, model.Parameters, reference, listParameters: parameters));
        return 0;
    }
}
