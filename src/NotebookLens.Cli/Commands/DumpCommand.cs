using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>dump</c>: one forward pass written as safetensors with the fixtures' conventions (float32, int64):
/// <c>input_ids</c> [T], <c>logits</c> [T,V], <c>hidden.{i}</c> [T,D] for i = 0..L, <c>prenorm_last</c> [T,D], <c>attn.{l}</c> [H,T,T].
/// </summary>
public sealed class DumpCommand : ICommand
{
    public string Name => "dump";
    public string Usage => $"dump {ModelArgs.Usage} (--ids ID,ID,... | --text TEXT) --out FILE.safetensors";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["ids", "text", "out"]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>();

    public int Run(CliArgs args, CliIO io)
    {
        string? idList = args.Get("ids"), text = args.Get("text");
        if ((idList is null) == (text is null)) throw new UsageException("give either --ids or --text");
        var outPath = args.Require("out");
        var given = idList is null ? null : ParseIds(idList);
        var folder = ModelArgs.Resolve(args, io, given is null ? ModelParts.All : ModelParts.Weights);
        // The text is encoded as tokenizer(text) does: special tokens in it are parsed and BOS is added.
        var ids = given ?? HfTokenizer.Load(folder).Encode(text!).Select(i => (long)i).ToArray();
        using var model = ModelArgs.Load(args, folder);
        using var scope = NewDisposeScope();
        var input = tensor(ids, dtype: ScalarType.Int64);
        using var result = model.Forward(input, ForwardOptions.Everything);
        var tensors = new Dictionary<string, Tensor>
        {
            ["input_ids"] = input,
            ["logits"] = Float(result.Logits),
            ["prenorm_last"] = Float(result.PrenormLast!),
        };
        for (int i = 0; i < result.HiddenStates!.Count; i++) tensors[$"hidden.{i}"] = Float(result.HiddenStates[i]);
        for (int l = 0; l < result.Attentions!.Count; l++) tensors[$"attn.{l}"] = Float(result.Attentions[l]);
        SafeTensorsWriter.Write(outPath, tensors, new Dictionary<string, string>
        {
            ["model_type"] = model.Config.ModelType,
            ["dtype"] = DTypes.Name(model.DType),
        });
        io.Output.WriteLine($"wrote {tensors.Count} tensors for {ids.Length} tokens to {outPath}");
        return 0;
    }

    /// <summary>Drops the batch dimension of a single run and converts to float32.</summary>
    static Tensor Float(Tensor t) => t[0].to(ScalarType.Float32).contiguous();

    internal static long[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException("--ids needs at least one token id");
        return parts.Select(p => long.TryParse(p, out var id) && id >= 0 ? id
            : throw new UsageException($"--ids: '{p}' is not a token id (a non-negative integer)")).ToArray();
    }
}
