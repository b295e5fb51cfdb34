using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;

namespace NotebookLens.Cli.Commands;

/// <summary><c>info</c>: the architecture summary and parameter count; <c>--parameters</c> lists every parameter.</summary>
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
        io.Output.WriteLine($"{c.ModelType} ({c.Family}) from {model.Checkpoint.Folder}");
        io.Output.WriteLine($"  parameters     {model.NumParameters:N0}");
        io.Output.WriteLine($"  layers         {c.NumLayers}");
        io.Output.WriteLine($"  hidden size    {c.HiddenSize} (MLP {c.IntermediateSize}, {c.HiddenAct})");
        io.Output.WriteLine($"  attention      {c.NumHeads} query heads, {c.NumKeyValueHeads} key/value heads, head_dim {c.HeadDim}");
        if (c.SlidingWindow is int w)
            io.Output.WriteLine($"  sliding window {w} on {c.SlidingLayers.Count(s => s)} of {c.NumLayers} layers (full: {string.Join(", ", Enumerable.Range(0, c.NumLayers).Where(i => !c.SlidingLayers[i]))})");
        io.Output.WriteLine($"  vocabulary     {c.VocabSize:N0}{(model.TiedEmbeddings ? ", LM head tied to the embeddings" : "")}");
        io.Output.WriteLine($"  rope           theta {c.Rope.Theta:G}, {c.Rope.Type}{(c.Rope.Type == "default" ? "" : $" x{c.Rope.Factor:G}")}{(c.LocalRope is { } l ? $"; local theta {l.Theta:G}" : "")}");
        io.Output.WriteLine($"  dtype          {DTypes.Name(model.DType)} on {model.Device}");
        io.Output.WriteLine($"  torch          {TorchRuntime.Status}");
        if (parameters)
        {
            io.Output.WriteLine();
            int width = model.Parameters.Max(p => p.Name.Length);
            foreach (var p in model.Parameters)
                io.Output.WriteLine($"{p.Name.PadRight(width)}  [{string.Join(", ", p.Shape)}]  {DTypes.Name(p.DType)}{(p.Loaded ? "" : "  (not loaded)")}");
        }
        return 0;
    }
}
