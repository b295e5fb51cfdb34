using System.Text.Json.Nodes;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

/// <summary>
/// The engine on real trained weights: karpathy's stories260K (llama2.c format, read from ../shared,
/// never committed), converted to a Hugging Face folder the way convert_llama_weights_to_hf.py does.
/// Golden values from ../shared/models/stories260K/SOURCE.md.
/// </summary>
public class TrainedModelTests
{
    static readonly long[] GreedyFromBos =
        [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292];

    public TrainedModelTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Stories260K_tells_its_story_greedily()
    {
        using var model = LanguageModel.Load(ConvertStories260K(), new LoadOptions { DType = ScalarType.Float32 });
        var ids = new List<long> { 1 };
        for (int step = 0; step < GreedyFromBos.Length; step++)
        {
            using var input = tensor(ids.ToArray());
            using var result = model.Forward(input, new ForwardOptions { LastPositionLogitsOnly = true });
            using var next = result.Logits[0, -1].argmax();
            ids.Add(next.item<long>());
        }
        Assert.Equal(GreedyFromBos, ids.Skip(1));
    }

    [Fact]
    public void Stories260K_top_logits_match_the_independent_forward()
    {
        using var model = LanguageModel.Load(ConvertStories260K(), new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        using var result = model.Forward(tensor(new long[] { 1, 403, 407 }));
        var logits = result.Logits[0];
        (long Id, float Logit)[][] expected =
        [
            [(403, 17.0235f), (385, 15.4062f), (410, 13.1083f), (317, 12.7692f), (407, 12.4181f)],
            [(407, 18.4600f), (383, 14.2911f), (261, 10.8980f), (403, 10.6621f), (432, 10.3138f)],
            [(261, 17.1370f), (407, 11.7102f), (383, 11.1694f), (286, 10.2111f), (272, 9.9222f)],
        ];
        for (int pos = 0; pos < 3; pos++)
        {
            var top = logits[pos].topk(5);
            Assert.Equal(expected[pos].Select(e => e.Id), top.indexes.data<long>().ToArray());
            for (int k = 0; k < 5; k++)
                Assert.Equal(expected[pos][k].Logit, top.values[k].item<float>(), 1e-3f);
        }
    }

    static readonly Lazy<string> Converted = new(() => Convert(Path.Combine(Fixtures.Shared, "models", "stories260K", "stories260K.bin")));

    static string ConvertStories260K() => Converted.Value;

    /// <summary>llama2.c legacy export → config.json + model.safetensors, q/k rows permuted for rotate_half.</summary>
    static string Convert(string bin)
    {
        Assert.True(File.Exists(bin), $"{bin} is missing: put the shared folder beside the repository or set NOTEBOOKLENS_SHARED");
        using var reader = new BinaryReader(File.OpenRead(bin));
        int dim = reader.ReadInt32(), hidden = reader.ReadInt32(), layers = reader.ReadInt32(), heads = reader.ReadInt32(),
            kvHeads = reader.ReadInt32(), vocab = Math.Abs(reader.ReadInt32()), seqLen = reader.ReadInt32();
        int headDim = dim / heads, kvDim = kvHeads * headDim;
        using var scope = NewDisposeScope();
        Tensor Read(params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var floats = new float[n];
            for (long i = 0; i < n; i++) floats[i] = reader.ReadSingle();
            return tensor(floats).view(shape);
        }
        // Meta's interleaved RoPE pairs (2i, 2i+1) become HF's half-split pairs (i, i + d/2).
        Tensor Permute(Tensor w, int nHeads) =>
            w.view(nHeads, w.shape[0] / nHeads / 2, 2, w.shape[1]).transpose(1, 2).reshape(w.shape[0], w.shape[1]).contiguous();

        var t = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = Read(vocab, dim) };
        var att = Read(layers, dim);
        var wq = Read(layers, dim, dim);
        var wk = Read(layers, kvDim, dim);
        var wv = Read(layers, kvDim, dim);
        var wo = Read(layers, dim, dim);
        var ffn = Read(layers, dim);
        var w1 = Read(layers, hidden, dim);
        var w2 = Read(layers, dim, hidden);
        var w3 = Read(layers, hidden, dim);
        t["model.norm.weight"] = Read(dim);
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            t[p + "input_layernorm.weight"] = att[l].contiguous();
            t[p + "self_attn.q_proj.weight"] = Permute(wq[l], heads);
            t[p + "self_attn.k_proj.weight"] = Permute(wk[l], kvHeads);
            t[p + "self_attn.v_proj.weight"] = wv[l].contiguous();
            t[p + "self_attn.o_proj.weight"] = wo[l].contiguous();
            t[p + "post_attention_layernorm.weight"] = ffn[l].contiguous();
            t[p + "mlp.gate_proj.weight"] = w1[l].contiguous();
            t[p + "mlp.down_proj.weight"] = w2[l].contiguous();
            t[p + "mlp.up_proj.weight"] = w3[l].contiguous();
        }
        var dir = Fixtures.TempDir();
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), t);
        var config = new JsonObject
        {
            ["model_type"] = "llama", ["hidden_size"] = dim, ["intermediate_size"] = hidden, ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads, ["vocab_size"] = vocab,
            ["max_position_embeddings"] = seqLen, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = true, ["bos_token_id"] = 1, ["eos_token_id"] = 2,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        return dir;
    }
}
