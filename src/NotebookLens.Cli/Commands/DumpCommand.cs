using System.CommandLine;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>dump</c>: one forward pass written as safetensors with the fixtures' conventions (float32, int64):
/// <c>input_ids</c> [T], <c>logits</c> [T,V], <c>hidden.{i}</c> [T,D] for i = 0..L, <c>prenorm_last</c> [T,D], <c>attn.{l}</c> [H,T,T].
/// </summary>
public sealed class DumpCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<IReadOnlyList<long>> _ids;
    readonly Option<string> _text, _out;

    public DumpCommand(CliIO io) : base(io, "dump",
        "Runs one forward pass and writes what happened inside as a .safetensors file: the logits, every layer's hidden states and every attention map (for Python or your own checks).",
        "dump --text \"The apple is green.\" --dtype float32 --out apple.safetensors")
    {
        _model = new ModelArgs(this);
        _ids = Declare(CliOptions.TokenIds("The input as token ids (tokenize shows a text's ids)."));
        _text = Declare(CliOptions.Text("--text", "TEXT", "The input as text, encoded as the model's tokenizer does (special tokens parsed, BOS added)."));
        _out = Declare(CliOptions.Text("--out", "FILE.safetensors", "Where to write the tensors.").Required());
        Check(r => (r.GetValue(_ids) is null) == (r.GetValue(_text) is null) ? "give either --ids or --text" : null);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var given = args.GetValue(_ids);
        var outPath = args.GetValue(_out)!;
        var folder = _model.Resolve(args, io, given is null ? ModelParts.All : ModelParts.Weights);
        // The text is encoded as tokenizer(text) does: special tokens in it are parsed and BOS is added.
        var ids = given?.ToArray() ?? HfTokenizer.Load(folder).Encode(args.GetValue(_text)!).Select(i => (long)i).ToArray();
        using var model = _model.Load(args, folder);
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

}
