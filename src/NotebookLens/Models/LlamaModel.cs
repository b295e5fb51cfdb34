namespace NotebookLens.Models;

/// <summary>Llama 3.x (<c>model_type: llama</c>): pre-norm blocks, SiLU-gated MLP, GQA, llama3 RoPE scaling.</summary>
public sealed class LlamaModel : LanguageModel
{
    internal LlamaModel(Checkpoint checkpoint, LoadOptions options) : base(checkpoint, options) { }

    private protected override bool OffsetNorms => false;

    private protected override DecoderBlock BuildBlock(int layer) => new()
    {
        Index = layer,
        InputNorm = Norm($"layers.{layer}.input_layernorm.weight", Config.HiddenSize),
        Attention = Attention(layer, qkNorm: false, softcap: null),
        PostAttentionNorm = Norm($"layers.{layer}.post_attention_layernorm.weight", Config.HiddenSize),
        Mlp = Mlp(layer),
    };
}
