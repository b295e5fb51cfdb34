using System.Text.Json.Nodes;
using CsCheck;
using NotebookLens.Models;

namespace NotebookLens.Tests.Robustness;

/// <summary>Generated config.json files: a real config's fields with values of every type and size, fields dropped, bytes cut.</summary>
public class ModelConfigFuzzTests
{
    static readonly string[] Fields =
    [
        "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
        "vocab_size", "max_position_embeddings", "rms_norm_eps", "hidden_act", "hidden_activation", "tie_word_embeddings",
        "attention_bias", "mlp_bias", "rope_theta", "rope_scaling", "bos_token_id", "eos_token_id", "pad_token_id",
        "torch_dtype", "sliding_window", "sliding_window_pattern", "layer_types", "query_pre_attn_scalar",
        "rope_local_base_freq", "attn_logit_softcapping", "final_logit_softcapping", "text_config",
    ];

    static readonly Gen<string> Value = Gen.Frequency(
        (3, Fuzz.Sizes.Select(Fuzz.Number)),
        (1, Gen.OneOf("silu", "gelu", "relu", "sliding_attention", "full_attention").Select(Fuzz.Text)),
        (1, Gen.OneOf("default", "linear", "llama3", "yarn").Select(t => Fuzz.Object([("rope_type", Fuzz.Text(t)), ("factor", "8")]))),
        (1, Gen.OneOf("sliding_attention", "full_attention").Array[0, 8].Select(t => Fuzz.Array(t.Select(Fuzz.Text)))),
        (2, Fuzz.AnyJson));

    static readonly Gen<string> Config = Gen.Select(
        Gen.OneOf("llama", "gemma3_text", "gemma3", "mistral").Select(Fuzz.Text),
        Gen.Select(Gen.OneOf(Fields), Value).Array[0, 12],
        Gen.Frequency((8, Gen.Const(-1)), (1, Gen.Int[0, 400])),
        (type, fields, cut) =>
        {
            var json = Fuzz.Object([("model_type", type), .. fields]);
            return cut >= 0 && cut < json.Length ? json[..cut] : json;
        });

    [Fact]
    public void Any_config_parses_or_fails_with_an_error_naming_the_file()
    {
        var folder = Fixtures.TempDir();
        var path = Path.Combine(folder, "config.json");
        Fuzz.Check(Config, json =>
        {
            File.WriteAllText(path, json);
            ModelConfig.Load(folder);
        }, path, [typeof(InvalidDataException), typeof(NotSupportedException)], json => json);
    }

    [Fact]
    public void Absurd_sizes_are_refused_before_anything_is_allocated()
    {
        foreach (var (field, value) in new[] { ("vocab_size", "1e12"), ("num_hidden_layers", "1e6"), ("num_hidden_layers", "2147483647") })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(JsonNode.Parse($$"""{"model_type":"llama","{{field}}":{{value}}}""")!.AsObject()));
            Assert.Contains(field, e.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, $"{field} = {value} allocated before it was refused");
        }
    }
}
