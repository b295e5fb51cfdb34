using System.Text.Json.Nodes;
using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

public class ModelConfigTests
{
    static ModelConfig Parse(string json) => ModelConfig.Parse(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void Gemma3_4b_it_multimodal_config_fills_text_defaults()
    {
        // The hub's config.json of google/gemma-3-4b-it: most text fields are left to Gemma3TextConfig's defaults.
        var c = Parse("""
            {"architectures":["Gemma3ForConditionalGeneration"],"boi_token_index":255999,"eoi_token_index":256000,
             "eos_token_id":[1,106],"image_token_index":262144,"initializer_range":0.02,"mm_tokens_per_image":256,
             "model_type":"gemma3","text_config":{"hidden_size":2560,"intermediate_size":10240,"model_type":"gemma3_text",
             "num_hidden_layers":34,"rope_scaling":{"factor":8.0,"rope_type":"linear"},"sliding_window":1024},
             "torch_dtype":"bfloat16","transformers_version":"4.50.0.dev0",
             "vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,"model_type":"siglip_vision_model",
             "num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,"vision_use_head":false}}
            """);
        Assert.Equal("gemma3", c.ModelType);
        Assert.Equal(ModelFamily.Gemma3, c.Family);
        Assert.Equal((2560, 10240, 34, 8, 4, 256, 262208), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize));
        Assert.Equal(1.0 / 16, c.AttentionScale);
        Assert.Equal(1024, c.SlidingWindow);
        Assert.Equal([5, 11, 17, 23, 29], Enumerable.Range(0, 34).Where(l => !c.SlidingLayers[l]));
        Assert.Equal(new RopeConfig(1_000_000, "linear", 8.0), c.Rope);
        Assert.Equal(10_000, c.LocalRope!.Theta);
        Assert.Equal("default", c.LocalRope.Type);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal([1, 106], c.EosTokenIds);
        Assert.Equal(2, c.BosTokenId);
        Assert.Equal("gelu_pytorch_tanh", c.HiddenAct);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Null(c.FinalLogitSoftcapping);
        Assert.Equal("bfloat16", c.TorchDtype);
    }

    [Fact]
    public void Llama_3_2_3b_instruct_config()
    {
        var c = Parse("""
            {"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"bos_token_id":128000,
             "eos_token_id":[128001,128008,128009],"head_dim":128,"hidden_act":"silu","hidden_size":3072,"initializer_range":0.02,
             "intermediate_size":8192,"max_position_embeddings":131072,"mlp_bias":false,"model_type":"llama","num_attention_heads":24,
             "num_hidden_layers":28,"num_key_value_heads":8,"pretraining_tp":1,"rms_norm_eps":1e-05,
             "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
             "rope_theta":500000.0,"tie_word_embeddings":true,"torch_dtype":"bfloat16","transformers_version":"4.45.0.dev0","use_cache":true,"vocab_size":128256}
            """);
        Assert.Equal((3072, 8192, 28, 24, 8, 128, 128256), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize));
        Assert.Equal(3, c.KeyValueGroups);
        Assert.Equal(new RopeConfig(500000, "llama3", 32, 1, 4, 8192), c.Rope);
        Assert.Null(c.LocalRope);
        Assert.Null(c.SlidingWindow);
        Assert.All(c.SlidingLayers, s => Assert.False(s));
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal(1 / Math.Sqrt(128), c.AttentionScale);
    }

    [Fact]
    public void Gemma3_1b_derives_layer_types_from_the_pattern()
    {
        var c = Parse("""{"model_type":"gemma3_text","num_hidden_layers":26,"sliding_window":512,"sliding_window_pattern":6,"hidden_size":1152,"head_dim":256,"num_attention_heads":4,"num_key_value_heads":1}""");
        Assert.Equal([5, 11, 17, 23], Enumerable.Range(0, 26).Where(l => !c.SlidingLayers[l]));
        Assert.Equal(new RopeConfig(1_000_000), c.Rope);
    }

    [Fact]
    public void Llama_without_head_dim_or_scaling_uses_the_defaults()
    {
        var c = Parse("""{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,"rope_scaling":null}""");
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(4, c.NumKeyValueHeads);
        Assert.Equal(new RopeConfig(10000), c.Rope);
        Assert.False(c.TieWordEmbeddings);
    }

    [Theory]
    [InlineData("""{"model_type":"llama","rope_scaling":{"rope_type":"yarn","factor":4}}""", "yarn")]
    [InlineData("""{"model_type":"llama","num_attention_heads":32,"num_key_value_heads":5}""", "multiple of num_key_value_heads")]
    [InlineData("""{"model_type":"llama","hidden_act":"relu"}""", "relu")]
    [InlineData("""{"model_type":"gemma3_text","num_hidden_layers":2,"layer_types":["full_attention"]}""", "layer_types has 1")]
    [InlineData("""{"hidden_size":64}""", "no model_type")]
    [InlineData("""{"model_type":"llama","hidden_size":"big"}""", "hidden_size must be a number, not \"big\"")]
    [InlineData("""{"model_type":"llama","hidden_size":2.5}""", "hidden_size must be a whole number")]
    [InlineData("""{"model_type":"llama","vocab_size":1e12}""", "vocab_size must be a whole number")]
    [InlineData("""{"model_type":"llama","num_hidden_layers":1000000}""", "refuses more than 4096 layers")]
    [InlineData("""{"model_type":"gemma3_text","layer_types":[null]}""", "layer_types must be a list of strings")]
    [InlineData("""{"model_type":"gemma3","text_config":[]}""", "text_config must be an object")]
    [InlineData("""{"model_type":"llama","tie_word_embeddings":1}""", "tie_word_embeddings must be true or false")]
    public void Invalid_configs_are_explained(string json, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Parse(json));
        Assert.True(e is InvalidDataException or NotSupportedException, e.GetType().Name);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Config_that_is_not_json_names_the_file()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ nope");
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Load(dir));
        Assert.Contains("config.json", e.Message);
    }

    [Theory]
    [InlineData("float32", ScalarType.Float32)]
    [InlineData("torch.bfloat16", ScalarType.BFloat16)]
    [InlineData("bf16", ScalarType.BFloat16)]
    [InlineData("FP32", ScalarType.Float32)]
    [InlineData("float16", ScalarType.Float16)]
    public void Compute_dtypes_parse(string name, ScalarType expected) => Assert.Equal(expected, DTypes.ParseCompute(name));

    [Theory]
    [InlineData("int8")]
    [InlineData("float64x")]
    public void Other_dtypes_are_refused_with_the_choices(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => DTypes.ParseCompute(name));
        Assert.Contains("float32", e.Message);
        Assert.Contains("bfloat16", e.Message);
    }
}
