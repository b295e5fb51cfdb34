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
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        if (node is not JsonObject root) throw new InvalidDataException($"{path} is not a JSON object.");
        return Parse(root, path);
    }

    public static ModelConfig Parse(JsonObject root, string origin = "config.json")
    {
        var type = root["model_type"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{origin} has no model_type.");
        try
        {
            return type switch
            {
                "llama" => ParseLlama(root),
                "gemma3_text" => ParseGemma3(root, type, root),
                // The multimodal checkpoint (gemma-3-4b-it and larger): we run its language model.
                "gemma3" => ParseGemma3(root, type, root["text_config"] as JsonObject ?? new JsonObject()),
                _ => throw new NotSupportedException(
                    $"{origin}: model_type '{type}' is not supported. NotebookLens runs {string.Join(", ", SupportedTypes)}."),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{origin}: a field has an unexpected JSON type ({e.Message}).", e);
        }
    }

    static ModelConfig ParseLlama(JsonObject c)
    {
        int hidden = Int(c, "hidden_size", 4096);
        int heads = Int(c, "num_attention_heads", 32);
        int headDim = Int(c, "head_dim", hidden / heads);
        int layers = Int(c, "num_hidden_layers", 32);
        return Validate(new ModelConfig
        {
            ModelType = "llama",
            Family = ModelFamily.Llama,
            HiddenSize = hidden,
            IntermediateSize = Int(c, "intermediate_size", 11008),
            NumLayers = layers,
            NumHeads = heads,
            NumKeyValueHeads = Int(c, "num_key_value_heads", heads),
            HeadDim = headDim,
            VocabSize = Int(c, "vocab_size", 32000),
            MaxPositions = Int(c, "max_position_embeddings", 2048),
            RmsNormEps = Double(c, "rms_norm_eps", 1e-6),
            HiddenAct = Str(c, "hidden_act", "silu"),
            TieWordEmbeddings = Bool(c, "tie_word_embeddings", false),
            AttentionBias = Bool(c, "attention_bias", false),
            MlpBias = Bool(c, "mlp_bias", false),
            AttentionScale = 1.0 / Math.Sqrt(headDim),
            Rope = ParseRope(c, Double(c, "rope_theta", 10000.0)),
            SlidingLayers = new bool[layers],
            BosTokenId = NullableInt(c, "bos_token_id"),
            EosTokenIds = IntList(c, "eos_token_id"),
            PadTokenId = NullableInt(c, "pad_token_id"),
            TorchDtype = c["torch_dtype"]?.GetValue<string>(),
        });
    }

    static ModelConfig ParseGemma3(JsonObject root, string type, JsonObject c)
    {
        int layers = Int(c, "num_hidden_layers", 26);
        int pattern = Int(c, "sliding_window_pattern", 6);
        var sliding = c["layer_types"] is JsonArray types
            ? types.Select(t => t!.GetValue<string>() == "sliding_attention").ToArray()
            : Enumerable.Range(0, layers).Select(l => (l + 1) % pattern != 0).ToArray();
        if (sliding.Length != layers)
            throw new InvalidDataException($"config.json: layer_types has {sliding.Length} entries but num_hidden_layers is {layers}.");
        // In the multimodal config the token ids sit at the top level, the architecture in text_config.
        JsonObject Ids(string key) => c[key] is not null ? c : root;
        return Validate(new ModelConfig
        {
            ModelType = type,
            Family = ModelFamily.Gemma3,
            HiddenSize = Int(c, "hidden_size", 2304),
            IntermediateSize = Int(c, "intermediate_size", 9216),
            NumLayers = layers,
            NumHeads = Int(c, "num_attention_heads", 8),
            NumKeyValueHeads = Int(c, "num_key_value_heads", 4),
            HeadDim = Int(c, "head_dim", 256),
            VocabSize = Int(c, "vocab_size", 262208),
            MaxPositions = Int(c, "max_position_embeddings", 131072),
            RmsNormEps = Double(c, "rms_norm_eps", 1e-6),
            HiddenAct = Str(c, "hidden_activation", Str(c, "hidden_act", "gelu_pytorch_tanh")),
            TieWordEmbeddings = Bool(c, "tie_word_embeddings", Bool(root, "tie_word_embeddings", true)),
            AttentionBias = Bool(c, "attention_bias", false),
            MlpBias = false,
            AttentionScale = 1.0 / Math.Sqrt(Double(c, "query_pre_attn_scalar", 256)),
            Rope = ParseRope(c, Double(c, "rope_theta", 1_000_000.0)),
            LocalRope = new RopeConfig(Double(c, "rope_local_base_freq", 10_000.0)),
            SlidingWindow = Int(c, "sliding_window", 4096),
            SlidingLayers = sliding,
            AttnLogitSoftcapping = NullableDouble(c, "attn_logit_softcapping"),
            FinalLogitSoftcapping = NullableDouble(c, "final_logit_softcapping"),
            BosTokenId = NullableInt(Ids("bos_token_id"), "bos_token_id") ?? 2,
            EosTokenIds = IntList(Ids("eos_token_id"), "eos_token_id") is { Count: > 0 } eos ? eos : [1],
            PadTokenId = NullableInt(Ids("pad_token_id"), "pad_token_id") ?? 0,
            TorchDtype = (c["torch_dtype"] ?? root["torch_dtype"])?.GetValue<string>(),
        });
    }

    static RopeConfig ParseRope(JsonObject c, double theta)
    {
        if (c["rope_scaling"] is not JsonObject s) return new RopeConfig(theta);
        var type = (s["rope_type"] ?? s["type"])?.GetValue<string>() ?? "default";
        return type switch
        {
            "default" => new RopeConfig(theta),
            "linear" => new RopeConfig(theta, "linear", Double(s, "factor", 1.0)),
            "llama3" => new RopeConfig(theta, "llama3", Double(s, "factor", 8.0), Double(s, "low_freq_factor", 1.0),
                Double(s, "high_freq_factor", 4.0), Int(s, "original_max_position_embeddings", 8192)),
            _ => throw new NotSupportedException($"config.json: rope_scaling type '{type}' is not supported (default, linear, llama3 are)."),
        };
    }

    static ModelConfig Validate(ModelConfig c)
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new InvalidDataException($"config.json: {message}");
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

    static int Int(JsonObject o, string key, int fallback) => o[key] is { } v ? (int)v.GetValue<double>() : fallback;
    static int? NullableInt(JsonObject o, string key) => o[key] is JsonValue v ? (int)v.GetValue<double>() : null;
    static double Double(JsonObject o, string key, double fallback) => o[key] is { } v ? v.GetValue<double>() : fallback;
    static double? NullableDouble(JsonObject o, string key) => o[key] is JsonValue v ? v.GetValue<double>() : null;
    static bool Bool(JsonObject o, string key, bool fallback) => o[key] is { } v ? v.GetValue<bool>() : fallback;
    static string Str(JsonObject o, string key, string fallback) => o[key]?.GetValue<string>() ?? fallback;

    static IReadOnlyList<int> IntList(JsonObject o, string key) => o[key] switch
    {
        JsonArray a => a.Select(x => (int)x!.GetValue<double>()).ToList(),
        JsonValue v => [(int)v.GetValue<double>()],
        _ => [],
    };
}
