using NotebookLens.Models;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>How to ablate heads or neurons.</summary>
public enum AblationMode
{
    /// <summary>Set to zero.</summary>
    Zero,
    /// <summary>Set to their mean over the positions of the current pass.</summary>
    Mean,
}

/// <summary>
/// Changes to a model's activations, as <see cref="HookSet"/>s that compose with <see cref="HookSet.Then"/>
/// and work the same in a single forward pass and in (cached) generation.
/// </summary>
public static class Interventions
{
    /// <summary>
    /// Adds <paramref name="scale"/> · <paramref name="vector"/> [D] to the residual stream at the input of each layer in
    /// <paramref name="layers"/> (activation addition), at the positions <paramref name="atPosition"/> accepts (all by default).
    /// </summary>
    public static HookSet AddVector(Tensor vector, IEnumerable<int> layers, double scale = 1.0, Func<long, bool>? atPosition = null, string hookPoint = HookPoints.Block.ResidPre)
    {
        var hooks = new HookSet();
        // Hooks outlive the caller's dispose scope: they own what they captured.
        var v = vector.detach().flatten().DetachFromDisposeScope();
        foreach (var layer in layers.Distinct())
            hooks.Add(HookPoints.At(layer, hookPoint), (x, ctx) =>
            {
                var delta = (v.to(x.dtype, x.device) * Scalars.Of(scale)).view(1, 1, -1);
                if (atPosition is null) return Scalars.Plus(x, delta);
                var mask = PositionMask(x.shape[1], ctx.PositionOffset, atPosition, x);
                return Scalars.Plus(x, delta * mask);
            });
        return hooks;
    }

    /// <summary>
    /// Projects the unit direction out of every residual-stream input, attention output and MLP output
    /// (directional ablation, Arditi et al. 2024), at every position: x ← x − (x·r̂) r̂.
    /// </summary>
    public static HookSet AblateDirection(Tensor direction, ModelConfig config)
    {
        var unit = Unit(direction).DetachFromDisposeScope();
        HookFunction project = (x, _) =>
        {
            var r = unit.to(x.dtype, x.device);
            return x - x.matmul(r).unsqueeze(-1) * r;
        };
        var hooks = new HookSet();
        for (int l = 0; l < config.NumLayers; l++)
        {
            hooks.Add(HookPoints.ResidPre(l), project);
            hooks.Add(HookPoints.AttnOut(l), project);
            hooks.Add(HookPoints.MlpOut(l), project);
        }
        return hooks;
    }

    /// <summary>
    /// Replaces the activation at <paramref name="hookPoint"/> with <paramref name="source"/> at the given absolute
    /// positions: <paramref name="source"/> is [D] (the same vector everywhere) or [P, ...] (one row per position in order).
    /// What Patchscope and activation patching need.
    /// </summary>
    public static HookSet Patch(string hookPoint, Tensor source, IReadOnlyList<long> positions)
    {
        var patch = source.detach().DetachFromDisposeScope();
        return new HookSet().Add(hookPoint, (x, ctx) =>
        {
            Tensor? result = null;
            for (int i = 0; i < positions.Count; i++)
            {
                long local = positions[i] - ctx.PositionOffset;
                if (local < 0 || local >= x.shape[1]) continue;
                result ??= x.clone();
                var row = patch.dim() == x.dim() - 2 ? patch : patch[i];
                result[.., local] = row.to(x.dtype, x.device);
            }
            return result;
        });
    }

    /// <summary>Zero- or mean-ablates attention heads of a layer (on <c>attn.hook_z</c>, before o_proj).</summary>
    public static HookSet AblateHeads(int layer, IEnumerable<int> heads, AblationMode mode = AblationMode.Zero) =>
        AblateUnits(HookPoints.Z(layer), 2, heads, mode);

    /// <summary>Zero- or mean-ablates MLP neurons of a layer (on <c>mlp.hook_post</c>).</summary>
    public static HookSet AblateNeurons(int layer, IEnumerable<int> neurons, AblationMode mode = AblationMode.Zero) =>
        AblateUnits(HookPoints.Neurons(layer), 2, neurons, mode);

    static HookSet AblateUnits(string hookPoint, int axis, IEnumerable<int> units, AblationMode mode)
    {
        var indices = units.Distinct().Select(u => (long)u).ToArray();
        return new HookSet().Add(hookPoint, (x, _) =>
        {
            var index = tensor(indices, device: x.device);
            var result = x.clone();
            var replacement = mode == AblationMode.Zero
                ? zeros_like(x.index_select(axis, index))
                : x.index_select(axis, index).mean([1], keepdim: true).expand_as(x.index_select(axis, index));
            return result.index_copy_(axis, index, replacement);
        });
    }

    /// <summary>Any function of one activation.</summary>
    public static HookSet Custom(string hookPoint, HookFunction hook) => new HookSet().Add(hookPoint, hook);

    /// <summary>The direction scaled to unit length, in float32.</summary>
    public static Tensor Unit(Tensor direction)
    {
        using var scope = NewDisposeScope();
        var d = direction.detach().flatten().to(ScalarType.Float32);
        var norm = d.norm().item<float>();
        if (!(norm > 0) || float.IsInfinity(norm)) throw new ArgumentException("The direction has zero (or non-finite) length.", nameof(direction));
        using var divisor = ((double)norm).ToScalar();
        return (d / divisor).MoveToOuterDisposeScope();
    }

    static Tensor PositionMask(long t, long offset, Func<long, bool> atPosition, Tensor like)
    {
        var values = new float[t];
        for (long i = 0; i < t; i++) values[i] = atPosition(offset + i) ? 1f : 0f;
        return tensor(values, device: like.device).to(like.dtype).view(1, t, 1);
    }
}
