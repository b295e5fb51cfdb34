namespace NotebookLens.Models;

/// <summary>
/// Gemma 3 text decoder (<c>gemma3_text</c>, or the language model of a multimodal <c>gemma3</c>
/// checkpoint): sandwich norms with <c>1 + w</c>, q/k norms, GELU-tanh MLP, scaled embeddings,
/// sliding-window local layers with their own RoPE base, and <c>query_pre_attn_scalar</c>.
/// </summary>
public sealed class Gemma3Model : LanguageModel
{
    internal Gemma3Model(Checkpoint checkpoint, LoadOptions options) : base(checkpoint, options) { }

    private protected override bool OffsetNorms => true;

    private protected override double? EmbeddingScale => Math.Sqrt(Config.HiddenSize);

    private protected override DecoderBlock BuildBlock(int layer)
    {
        string p = $"layers.{layer}.";
        long d = Config.HiddenSize;
        return new DecoderBlock
        {
            Index = layer,
            InputNorm = Norm(p + "input_layernorm.weight", d),
            Attention = Attention(layer, qkNorm: true, softcap: Config.AttnLogitSoftcapping),
            PostAttentionNorm = Norm(p + "post_attention_layernorm.weight", d),
            PreFeedforwardNorm = Norm(p + "pre_feedforward_layernorm.weight", d),
            PostFeedforwardNorm = Norm(p + "post_feedforward_layernorm.weight", d),
            Mlp = Mlp(layer),
        };
    }
}
