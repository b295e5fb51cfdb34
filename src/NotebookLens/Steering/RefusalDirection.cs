using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// A refusal direction: the un-normalised difference of means r at a layer and post-instruction position, and the
/// two ways Arditi et al. use it — activation addition at its layer, and directional ablation everywhere.
/// </summary>
public sealed class RefusalDirection : IDisposable
{
    /// <param name="vector">r, <c>[D]</c>; copied (as float32).</param>
    public RefusalDirection(int layer, int position, Tensor vector)
    {
        Layer = layer;
        Position = position;
        using var scope = NewDisposeScope();
        Vector = vector.detach().flatten().to(ScalarType.Float32).clone().DetachFromDisposeScope();
    }

    /// <summary>The chosen candidate of <paramref name="candidates"/>.</summary>
    public static RefusalDirection From(CandidateDirections candidates, CandidateScore chosen)
    {
        using var vector = candidates[chosen.Position, chosen.Layer];
        return new RefusalDirection(chosen.Layer, chosen.Position, vector);
    }

    /// <summary>Block whose input r was taken from, and where activation addition adds it.</summary>
    public int Layer { get; }

    /// <summary>Post-instruction position r was taken from, counted from the end (-1: the last token of the prompt).</summary>
    public int Position { get; }

    /// <summary>r, <c>[D]</c> float32, not normalised. Owned by this object.</summary>
    public Tensor Vector { get; }

    /// <summary>
    /// Activation addition: <paramref name="coefficient"/> · r added to the input of <see cref="Layer"/> at every
    /// position (prompt and generated tokens). +1 induces refusal, −1 bypasses it.
    /// </summary>
    public HookSet Addition(double coefficient = 1.0) => Interventions.AddVector(Vector, [Layer], coefficient);

    /// <summary>Directional ablation: r̂ projected out of every block input, attention output and MLP output, at every position.</summary>
    public HookSet Ablation(ModelConfig config) => Interventions.AblateDirection(Vector, config);

    /// <summary>The ablation as a weight edit of <paramref name="model"/>, undone when the result is disposed (see <see cref="WeightOrthogonalization"/>).</summary>
    public WeightOrthogonalization OrthogonalizeWeights(LanguageModel model) => WeightOrthogonalization.Apply(model, Vector);

    public void Dispose() => Vector.Dispose();
}
