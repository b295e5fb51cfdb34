using System.Text.Json;
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

    public int Run(CliArgs args, TextWriter output)
    {
        bool json = args.Flag("json"), parameters = args.Flag("parameters");
        using var model = ModelArgs.Load(args);
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
            output.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }
        output.WriteLine($"{c.ModelType} ({c.Family}) from {model.Checkpoint.Folder}");
        output.WriteLine($"  parameters     {model.NumParameters:N0}");
        output.WriteLine($"  layers         {c.NumLayers}");
        output.WriteLine($"  hidden size    {c.HiddenSize} (MLP {c.IntermediateSize}, {c.HiddenAct})");
        output.WriteLine($"  attention      {c.NumHeads} query heads, {c.NumKeyValueHeads} key/value heads, head_dim {c.HeadDim}");
        if (c.SlidingWindow is int w)
            output.WriteLine($"  sliding window {w} on {c.SlidingLayers.Count(s => s)} of {c.NumLayers} layers (full: {string.Join(", ", Enumerable.Range(0, c.NumLayers).Where(i => !c.SlidingLayers[i]))})");
        output.WriteLine($"  vocabulary     {c.VocabSize:N0}{(model.TiedEmbeddings ? ", LM head tied to the embeddings" : "")}");
        output.WriteLine($"  rope           theta {c.Rope.Theta:G}, {c.Rope.Type}{(c.Rope.Type == "default" ? "" : $" x{c.Rope.Factor:G}")}{(c.LocalRope is { } l ? $"; local theta {l.Theta:G}" : "")}");
        output.WriteLine($"  dtype          {DTypes.Name(model.DType)} on {model.Device}");
        output.WriteLine($"  torch          {TorchRuntime.Status}");
        if (parameters)
        {
            output.WriteLine();
            int width = model.Parameters.Max(p => p.Name.Length);
            foreach (var p in model.Parameters)
                output.WriteLine($"{p.Name.PadRight(width)}  [{string.Join(", ", p.Shape)}]  {DTypes.Name(p.DType)}{(p.Loaded ? "" : "  (not loaded)")}");
        }
        return 0;
    }
}
