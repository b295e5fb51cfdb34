using System.Text.Json.Serialization;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// A refusal direction: the un-normalised difference of means r at a layer and post-instruction position, and the
/// two ways Arditi et al. use it — activation addition at its layer, and directional ablation everywhere. A plain
/// record (r as floats), so it survives a notebook cell and serializes. The hook sets it makes own their tensors (they
/// work in any later cell; see <see cref="Ownership"/>).
/// </summary>
/// <param name="Layer">Block whose input r was taken from, and where activation addition adds it.</param>
/// <param name="Position">Post-instruction position r was taken from, counted from the end (-1: the last token of the prompt).</param>
/// <param name="Vector">r, <c>[D]</c>, not normalised.</param>
public sealed record RefusalDirection(int Layer, int Position, float[] Vector)
{
    /// <summary>A direction from a tensor <c>[D]</c> (any dtype or device; copied).</summary>
    public static RefusalDirection Of(int layer, int position, Tensor vector)
    {
        using var scope = NewDisposeScope();
        return new RefusalDirection(layer, position, vector.detach().flatten().to(ScalarType.Float32, CPU).ToHostArray<float>());
    }

    /// <summary>The chosen candidate of <paramref name="candidates"/>.</summary>
    public static RefusalDirection From(CandidateDirections candidates, CandidateScore chosen)
    {
        using var vector = candidates[chosen.Position, chosen.Layer];
        return Of(chosen.Layer, chosen.Position, vector);
    }

    /// <summary>‖r‖.</summary>
    [JsonIgnore] public double Norm => Math.Sqrt(Vector.Sum(v => (double)v * v));

    /// <summary>r as a float32 tensor <c>[D]</c> in the caller's dispose scope (<see cref="Ownership"/>).</summary>
    public Tensor ToTensor() => tensor(Vector);

    /// <summary>
    /// Activation addition: <paramref name="coefficient"/> · r added to the input of <see cref="Layer"/> at every
    /// position (prompt and generated tokens). +1 induces refusal, −1 bypasses it.
    /// </summary>
    public HookSet Addition(double coefficient = 1.0) => Interventions.AddVector(ToTensor(), [Layer], coefficient);

    /// <summary>Directional ablation: r̂ projected out of every block input, attention output and MLP output, at every position.</summary>
    public HookSet Ablation(ModelConfig config) => Interventions.AblateDirection(ToTensor(), config);
}
