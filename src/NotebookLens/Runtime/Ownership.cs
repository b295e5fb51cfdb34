using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Runtime;

/// <summary>
/// NotebookLens's one rule for tensors: every tensor an API returns (alone or inside a ForwardResult or an
/// ActivationCache) belongs to the dispose scope open where the call was made (<c>torch.NewDisposeScope()</c>), and is
/// freed when that scope ends; with no scope open it is the caller's to dispose. A notebook kernel opens one scope per
/// cell, so a cell never writes <c>using</c>: what a cell wants to keep for later cells it takes out with
/// <see cref="Keep(Tensor)"/> (like nnsight's <c>.save()</c>). Analyses return plain records, which hold no tensors.
/// Hook sets (interventions) are the one kind of object that holds tensors for you: they own copies of what they
/// were given, so a hook set made in one cell works in the next; those copies are freed when the hook set is collected.
/// </summary>
public static class Ownership
{
    /// <summary>Takes the tensor out of its dispose scope: it lives until disposed (or collected).</summary>
    public static Tensor Keep(this Tensor tensor) => tensor.DetachFromDisposeScope();

    /// <summary>Moves what <paramref name="scope"/> created for the caller to the caller's scope (or to nobody when there is none).</summary>
    internal static void HandOut(this DisposeScope scope, IEnumerable<Tensor?> tensors) =>
        scope.MoveToOuter(tensors.OfType<Tensor>().Where(t => scope.Contains(t)).Cast<IDisposable>());
}
