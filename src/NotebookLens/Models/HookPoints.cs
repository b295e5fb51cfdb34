using NotebookLens.Runtime;

namespace NotebookLens.Models;

/// <summary>
/// The names of every activation a forward pass exposes, TransformerLens' scheme. This is the one place
/// they are defined. Shapes use B batch, T positions of this pass, S positions attended to (T plus the
/// cached ones), D hidden size, H query heads, d head_dim, I MLP width.
/// <list type="table">
/// <item><term><c>hook_embed</c></term><description>[B,T,D] token embeddings, Gemma's √D scaling included = HF <c>hidden_states[0]</c>.</description></item>
/// <item><term><c>blocks.{i}.hook_resid_pre</c></term><description>[B,T,D] input of block i = HF <c>hidden_states[i]</c>.</description></item>
/// <item><term><c>blocks.{i}.attn.hook_q</c>, <c>hook_k</c>, <c>hook_v</c></term><description>[B,T,H,d] (k, v: KV heads) after projection (and Gemma's q/k norm), before RoPE.</description></item>
/// <item><term><c>blocks.{i}.attn.hook_rot_q</c>, <c>hook_rot_k</c></term><description>[B,T,H,d] after RoPE.</description></item>
/// <item><term><c>blocks.{i}.attn.hook_attn_scores</c></term><description>[B,H,T,S] fp32 scaled scores, masked entries at float.MinValue.</description></item>
/// <item><term><c>blocks.{i}.attn.hook_pattern</c></term><description>[B,H,T,S] fp32 attention probabilities.</description></item>
/// <item><term><c>blocks.{i}.attn.hook_z</c></term><description>[B,T,H,d] per-head attention output, before o_proj.</description></item>
/// <item><term><c>blocks.{i}.hook_attn_out</c></term><description>[B,T,D] what attention adds to the residual stream (Gemma: after its post-attention norm).</description></item>
/// <item><term><c>blocks.{i}.hook_resid_mid</c></term><description>[B,T,D] residual stream between attention and MLP.</description></item>
/// <item><term><c>blocks.{i}.mlp.hook_pre</c></term><description>[B,T,I] gate projection before the activation function.</description></item>
/// <item><term><c>blocks.{i}.mlp.hook_post</c></term><description>[B,T,I] the neurons: act(gate) · up, the input of down_proj.</description></item>
/// <item><term><c>blocks.{i}.hook_mlp_out</c></term><description>[B,T,D] what the MLP adds to the residual stream (Gemma: after its post-feedforward norm).</description></item>
/// <item><term><c>blocks.{i}.hook_resid_post</c></term><description>[B,T,D] output of block i = HF <c>hidden_states[i+1]</c>, except that HF's last entry is normalised.</description></item>
/// <item><term><c>ln_final.hook_normalized</c></term><description>[B,T,D] final norm output = HF <c>hidden_states[L]</c>; the LM head reads it.</description></item>
/// </list>
/// </summary>
public static class HookPoints
{
    public const string Embed = "hook_embed";
    public const string FinalNorm = "ln_final.hook_normalized";

    /// <summary>The points of each block, the part of a name after <c>blocks.{i}.</c>, in the order a forward pass reaches them.</summary>
    public static class Block
    {
        public const string ResidPre = "hook_resid_pre";
        public const string Q = "attn.hook_q";
        public const string K = "attn.hook_k";
        public const string V = "attn.hook_v";
        public const string RotQ = "attn.hook_rot_q";
        public const string RotK = "attn.hook_rot_k";
        public const string Scores = "attn.hook_attn_scores";
        public const string Pattern = "attn.hook_pattern";
        public const string Z = "attn.hook_z";
        public const string AttnOut = "hook_attn_out";
        public const string ResidMid = "hook_resid_mid";
        public const string MlpPre = "mlp.hook_pre";
        public const string MlpPost = "mlp.hook_post";
        public const string MlpOut = "hook_mlp_out";
        public const string ResidPost = "hook_resid_post";

        internal static readonly string[] All =
            [ResidPre, Q, K, V, RotQ, RotK, Scores, Pattern, Z, AttnOut, ResidMid, MlpPre, MlpPost, MlpOut, ResidPost];
    }

    /// <summary>Every hook point of a model with this configuration, in the order a forward pass reaches them.</summary>
    public static IReadOnlyList<string> All(ModelConfig config) =>
        [Embed, .. Enumerable.Range(0, config.NumLayers).SelectMany(i => Block.All.Select(p => At(i, p))), FinalNorm];

    /// <summary>The full name of a block's point: <c>blocks.{layer}.{point}</c>, e.g. <c>At(3, Block.ResidPre)</c>.</summary>
    public static string At(int layer, string point) => $"blocks.{layer}.{point}";

    public static string ResidPre(int layer) => At(layer, Block.ResidPre);
    public static string ResidMid(int layer) => At(layer, Block.ResidMid);
    public static string ResidPost(int layer) => At(layer, Block.ResidPost);
    public static string AttnOut(int layer) => At(layer, Block.AttnOut);
    public static string MlpOut(int layer) => At(layer, Block.MlpOut);
    public static string Pattern(int layer) => At(layer, Block.Pattern);
    public static string Z(int layer) => At(layer, Block.Z);
    public static string Neurons(int layer) => At(layer, Block.MlpPost);

    /// <summary>True for attention scores and patterns, <c>[B, H, T, S]</c>: their query axis is the third, not the second.</summary>
    public static bool IsAttentionMap(string name) =>
        name.EndsWith("." + Block.Scores, StringComparison.Ordinal) || name.EndsWith("." + Block.Pattern, StringComparison.Ordinal);

    /// <summary>Checks a name against the model; the error says what is wrong (layer out of range, unknown point).</summary>
    public static void Validate(string name, ModelConfig config)
    {
        if (name is Embed or FinalNorm) return;
        var parts = name.Split('.', 3);
        if (parts.Length == 3 && parts[0] == "blocks" && int.TryParse(parts[1], out var layer))
        {
            if (layer < 0 || layer >= config.NumLayers)
                throw new ArgumentOutOfRangeException(nameof(name), $"Hook point '{name}': {Ranges.Message(layer, config.NumLayers, "layer")}");
            if (Block.All.Contains(parts[2])) return;
        }
        throw new ArgumentException(
            $"Unknown hook point '{name}'. Names are {Embed}, blocks.{{i}}.{{{string.Join(", ", Block.All)}}} and {FinalNorm}.", nameof(name));
    }
}

/// <summary>Where a hook was called: the hook point, its layer, and the absolute position of the activation's first T entry.</summary>
/// <param name="PositionOffset">0 for a whole prompt; during cached generation, the number of positions already processed.</param>
public sealed record HookContext(string Name, int? Layer, long PositionOffset);

/// <summary>A function of an activation: return a replacement, or null (or the same tensor) to leave it as it is.</summary>
public delegate TorchSharp.torch.Tensor? HookFunction(TorchSharp.torch.Tensor activation, HookContext context);

/// <summary>Hooks to run during a forward pass or a generation, applied in the order they were added.</summary>
public sealed class HookSet
{
    readonly List<(string? Name, Func<string, bool>? Match, HookFunction Hook)> _hooks = [];

    public static HookSet Empty { get; } = new();

    public bool IsEmpty => _hooks.Count == 0;

    /// <summary>Names given explicitly, for validation against the model.</summary>
    public IEnumerable<string> Names => _hooks.Where(h => h.Name is not null).Select(h => h.Name!);

    public HookSet Add(string name, HookFunction hook)
    {
        _hooks.Add((name, null, hook));
        return this;
    }

    /// <summary>A hook on every point whose name satisfies <paramref name="match"/>.</summary>
    public HookSet Add(Func<string, bool> match, HookFunction hook)
    {
        _hooks.Add((null, match, hook));
        return this;
    }

    /// <summary>This set's hooks followed by <paramref name="other"/>'s.</summary>
    public HookSet Then(HookSet other)
    {
        var combined = new HookSet();
        combined._hooks.AddRange(_hooks);
        combined._hooks.AddRange(other._hooks);
        return combined;
    }

    /// <summary>Whether a hook of this set runs at the point <paramref name="name"/>.</summary>
    internal bool Covers(string name) => _hooks.Any(h => h.Name == name || (h.Match?.Invoke(name) ?? false));

    internal TorchSharp.torch.Tensor Run(string name, int? layer, long positionOffset, TorchSharp.torch.Tensor activation)
    {
        HookContext? context = null;
        foreach (var (hookName, match, hook) in _hooks)
        {
            if (hookName != name && !(match?.Invoke(name) ?? false)) continue;
            context ??= new HookContext(name, layer, positionOffset);
            var replaced = hook(activation, context);
            if (replaced is not null && !ReferenceEquals(replaced, activation))
            {
                if (!replaced.shape.SequenceEqual(activation.shape))
                    throw new InvalidOperationException(
                        $"A hook on '{name}' returned shape [{string.Join(", ", replaced.shape)}] for an activation of shape [{string.Join(", ", activation.shape)}].");
                activation = replaced;
            }
        }
        // NaN or infinity from a hook would spread silently to every later layer and token.
        if (context is not null && !activation.isfinite().all().item<bool>())
            throw new InvalidOperationException(
                $"After the hooks on '{name}'{(layer is int l ? $" (layer {l})" : "")}, the activation holds NaN or infinite values: a hook returned or wrote them (e.g. a division by a zero norm), or the model overflowed at this point.");
        return activation;
    }
}
