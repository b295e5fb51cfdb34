using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLens.Models;

/// <summary>The decoder families NotebookLens implements.</summary>
public enum ModelFamily
{
    Llama,
    Gemma3,
}

/// <summary>Rotary embedding settings of one kind of layer (HF <c>rope_theta</c> + <c>rope_scaling</c>).</summary>
/// <param name="Theta">The base.</param>
/// <param name="Type"><c>default</c>, <c>linear</c> or <c>llama3</c>.</param>
public sealed record RopeConfig(
    double Theta,
    string Type = "default",
    double Factor = 1.0,
    double LowFreqFactor = 1.0,
    double HighFreqFactor = 4.0,
    int OriginalMaxPositions = 8192);

/// <summary>
/// The parts of a Hugging Face <c>config.json</c> the decoders need, with the defaults of the
/// corresponding <c>transformers</c> config classes where a hub file leaves a field out.
/// </summary>
public sealed record ModelConfig
{
    static readonly string[] SupportedTypes = ["llama", "gemma3_text", "gemma3"];

    /// <summary>The top-level <c>model_type</c> of config.json (<c>gemma3</c> for the multimodal checkpoints).</summary>
    public required string ModelType { get; init; }
    public required ModelFamily Family { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositions { get; init; }
    public required double RmsNormEps { get; init; }
    public required string HiddenAct { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public required bool AttentionBias { get; init; }
    public required bool MlpBias { get; init; }
    /// <summary>Multiplier of q·k: <c>head_dim^-0.5</c>, or <c>query_pre_attn_scalar^-0.5</c> for Gemma.</summary>
    public required double AttentionScale { get; init; }
    /// <summary>RoPE of full-attention layers.</summary>
    public required RopeConfig Rope { get; init; }
    /// <summary>RoPE of sliding-window layers (Gemma 3), else null.</summary>
    public RopeConfig? LocalRope { get; init; }
    /// <summary>Keys a sliding layer sees, the current one included; null when no layer slides.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Per layer: true for sliding-window attention.</summary>
    public required IReadOnlyList<bool> SlidingLayers { get; init; }
    public double? AttnLogitSoftcapping { get; init; }
    public double? FinalLogitSoftcapping { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>The <c>torch_dtype</c> the checkpoint declares, if any.</summary>
    public string? TorchDtype { get; init; }

    public int KeyValueGroups => NumHeads / NumKeyValueHeads;

    public static ModelConfig Load(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{folder} is not a Hugging Face model folder: config.json is missing. Pass the folder that holds config.json, *.safetensors and tokenizer.json.", path);
        JsonNode? node;
        // A repeated key is refused here: JsonObject would otherwise fail on it later, with an unrelated exception.
        try { node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        if (node is not JsonObject root) throw new InvalidDataException($"{path} is not a JSON object.");
        return Parse(root, path);
    }

    public static ModelConfig Parse(JsonObject root, string origin = "config.json")
    {
        var top = new ConfigFields(root, origin);
        var type = top.Text("model_type") ?? throw new InvalidDataException($"{origin} has no model_type.");
        return type switch
        {
            "llama" => ParseLlama(top),
            "gemma3_text" => ParseGemma3(top, type, top),
            // The multimodal checkpoint (gemma-3-4b-it and larger): we run its language model.
            "gemma3" => ParseGemma3(top, type, top.Section("text_config")),
            _ => throw new NotSupportedException(
                $"{origin}: model_type '{type}' is not supported. NotebookLens runs {string.Join(", ", SupportedTypes)}."),
        };
    }

    static ModelConfig ParseLlama(ConfigFields c)
    {
        int hidden = c.Int("hidden_size", 4096);
        int heads = c.Int("num_attention_heads", 32);
        int headDim = c.Int("head_dim", heads > 0 ? hidden / heads : 0);
        int layers = c.Layers("num_hidden_layers", 32);
        return Validate(new ModelConfig
        {
            ModelType = "llama",
            Family = ModelFamily.Llama,
            HiddenSize = hidden,
            IntermediateSize = c.Int("intermediate_size", 11008),
            NumLayers = layers,
            NumHeads = heads,
            NumKeyValueHeads = c.Int("num_key_value_heads", heads),
            HeadDim = headDim,
            VocabSize = c.Int("vocab_size", 32000),
            MaxPositions = c.Int("max_position_embeddings", 2048),
            RmsNormEps = c.Double("rms_norm_eps", 1e-6),
            HiddenAct = c.Str("hidden_act", "silu"),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", false),
            AttentionBias = c.Bool("attention_bias", false),
            MlpBias = c.Bool("mlp_bias", false),
            AttentionScale = 1.0 / Math.Sqrt(headDim),
            Rope = ParseRope(c, c.Double("rope_theta", 10000.0)),
            SlidingLayers = new bool[layers],
            BosTokenId = c.NullableInt("bos_token_id"),
            EosTokenIds = c.IntList("eos_token_id"),
            PadTokenId = c.NullableInt("pad_token_id"),
            TorchDtype = c.Text("torch_dtype"),
        }, c.Origin);
    }

    static ModelConfig ParseGemma3(ConfigFields root, string type, ConfigFields c)
    {
        int layers = c.Layers("num_hidden_layers", 26);
        int pattern = c.Int("sliding_window_pattern", 6);
        if (pattern <= 0) throw new InvalidDataException($"{c.Origin}: sliding_window_pattern must be positive, not {pattern}.");
        var sliding = c.StrList("layer_types") is { } types
            ? types.Select(t => t == "sliding_attention").ToArray()
            : Enumerable.Range(0, layers).Select(l => (l + 1) % pattern != 0).ToArray();
        if (sliding.Length != layers)
            throw new InvalidDataException($"{c.Origin}: layer_types has {sliding.Length} entries but num_hidden_layers is {layers}.");
        // In the multimodal config the token ids sit at the top level, the architecture in text_config.
        ConfigFields Ids(string key) => c.Has(key) ? c : root;
        return Validate(new ModelConfig
        {
            ModelType = type,
            Family = ModelFamily.Gemma3,
            HiddenSize = c.Int("hidden_size", 2304),
            IntermediateSize = c.Int("intermediate_size", 9216),
            NumLayers = layers,
            NumHeads = c.Int("num_attention_heads", 8),
            NumKeyValueHeads = c.Int("num_key_value_heads", 4),
            HeadDim = c.Int("head_dim", 256),
            VocabSize = c.Int("vocab_size", 262208),
            MaxPositions = c.Int("max_position_embeddings", 131072),
            RmsNormEps = c.Double("rms_norm_eps", 1e-6),
            HiddenAct = c.Str("hidden_activation", c.Str("hidden_act", "gelu_pytorch_tanh")),
            TieWordEmbeddings = c.Bool("tie_word_embeddings", root.Bool("tie_word_embeddings", true)),
            AttentionBias = c.Bool("attention_bias", false),
            MlpBias = false,
            AttentionScale = 1.0 / Math.Sqrt(c.Double("query_pre_attn_scalar", 256)),
            Rope = ParseRope(c, c.Double("rope_theta", 1_000_000.0)),
            LocalRope = new RopeConfig(c.Double("rope_local_base_freq", 10_000.0)),
            SlidingWindow = c.Int("sliding_window", 4096),
            SlidingLayers = sliding,
            AttnLogitSoftcapping = c.NullableDouble("attn_logit_softcapping"),
            FinalLogitSoftcapping = c.NullableDouble("final_logit_softcapping"),
            BosTokenId = Ids("bos_token_id").NullableInt("bos_token_id") ?? 2,
            EosTokenIds = Ids("eos_token_id").IntList("eos_token_id") is { Count: > 0 } eos ? eos : [1],
            PadTokenId = Ids("pad_token_id").NullableInt("pad_token_id") ?? 0,
            TorchDtype = c.Text("torch_dtype") ?? root.Text("torch_dtype"),
        }, c.Origin);
    }

    static RopeConfig ParseRope(ConfigFields c, double theta)
    {
        if (!c.Has("rope_scaling") || c.IsNull("rope_scaling")) return new RopeConfig(theta);
        var s = c.Section("rope_scaling");
        var type = s.Text("rope_type") ?? s.Str("type", "default");
        return type switch
        {
            "default" => new RopeConfig(theta),
            "linear" => new RopeConfig(theta, "linear", s.Double("factor", 1.0)),
            "llama3" => new RopeConfig(theta, "llama3", s.Double("factor", 8.0), s.Double("low_freq_factor", 1.0),
                s.Double("high_freq_factor", 4.0), s.Int("original_max_position_embeddings", 8192)),
            _ => throw new NotSupportedException($"{c.Origin}: rope_scaling type '{type}' is not supported (default, linear, llama3 are)."),
        };
    }

    static ModelConfig Validate(ModelConfig c, string origin)
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new InvalidDataException($"{origin}: {message}");
        }
        Require(c.HiddenSize > 0 && c.NumLayers > 0 && c.NumHeads > 0 && c.HeadDim > 0 && c.VocabSize > 0 && c.IntermediateSize > 0,
            "sizes (hidden_size, num_hidden_layers, num_attention_heads, head_dim, vocab_size, intermediate_size) must be positive.");
        Require(c.NumKeyValueHeads > 0 && c.NumHeads % c.NumKeyValueHeads == 0,
            $"num_attention_heads ({c.NumHeads}) must be a multiple of num_key_value_heads ({c.NumKeyValueHeads}).");
        Require(c.HeadDim % 2 == 0, $"head_dim ({c.HeadDim}) must be even for rotary embeddings.");
        Require(c.SlidingWindow is null or > 0, "sliding_window must be positive.");
        Require(c.HiddenAct is "silu" or "gelu_pytorch_tanh" or "gelu",
            $"activation '{c.HiddenAct}' is not supported (silu, gelu_pytorch_tanh, gelu are).");
        return c;
    }
}
