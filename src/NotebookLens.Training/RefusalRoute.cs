using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Training;

/// <summary>
/// Trains the decision to refuse to pass through the model's own refusal direction at one middle layer, the way the
/// refusal-direction experiment (Arditi et al. 2024) later finds and uses it. The direction is measured as the
/// experiment measures it: the difference of the mean residual streams of harmful and harmless chats at the input of
/// <see cref="Layer"/>, at the last post-instruction token, here a running mean over training batches of chats left
/// alone. Routed chats (<see cref="ChatRoute"/>) are then trained with the experiment's interventions: harmless requests
/// with the difference added at every position are refused, harmful ones with the direction projected out of every
/// residual input and attention and MLP output are answered, and harmless ones so ablated are answered as before.
/// A model small enough to commit decides refusal at its last position with a margin no single direction carries
/// (Runs/tiny-v5 to v9); this makes the direction the experiment finds the one that carries it.
/// </summary>
sealed class RefusalRoute : IDisposable
{
    /// <summary>The weight of the previous running mean at each update.</summary>
    internal const double Momentum = 0.9;

    readonly int _layers;
    Tensor? _harmful, _harmless;

    public RefusalRoute(int layer, int layers) => (Layer, _layers) = (layer, layers);

    /// <summary>The layer whose input the direction is measured at and added to.</summary>
    public int Layer { get; }

    /// <summary>The running harmful − harmless difference of means ([D], fp32), once both have been read.</summary>
    public Tensor? Direction => _harmful is null || _harmless is null ? null : _harmful - _harmless;

    /// <summary>
    /// The hooks of one batch: <paramref name="routes"/> and <paramref name="reads"/> hold each input token's route and
    /// whether it is a read position (the last post-instruction token of a chat left alone), row by row, <c>[B × T]</c>.
    /// </summary>
    public HookSet Hooks(IReadOnlyList<ChatRoute> routes, IReadOnlyList<bool> reads, long rows, long length)
    {
        var hooks = new HookSet().Add(HookPoints.ResidPre(Layer), (x, _) => { Read(x, routes, reads); return null; });
        using var difference = Direction;
        if (difference is null) return hooks;
        var steer = Mask(routes, rows, length, r => r == ChatRoute.Steered);
        var ablate = Mask(routes, rows, length, r => r is ChatRoute.HarmfulAblated or ChatRoute.HarmlessAblated);
        if (steer is not null)
        {
            var delta = steer * difference.view(1, 1, -1);
            hooks.Add(HookPoints.ResidPre(Layer), (x, _) => x + delta);
        }
        if (ablate is not null)
        {
            var unit = difference / difference.norm();
            HookFunction project = (x, _) => x - ablate * x.matmul(unit).unsqueeze(-1) * unit;
            for (int l = 0; l < _layers; l++)
                hooks.Add(HookPoints.ResidPre(l), project).Add(HookPoints.AttnOut(l), project).Add(HookPoints.MlpOut(l), project);
        }
        return hooks;
    }

    /// <summary>Folds the batch's mean harmful and harmless read positions into the running means.</summary>
    void Read(Tensor x, IReadOnlyList<ChatRoute> routes, IReadOnlyList<bool> reads)
    {
        using var noGrad = no_grad();
        using var flat = x.detach().reshape(-1, x.shape[^1]).to(ScalarType.Float32);
        Update(ref _harmful, flat, Positions(routes, reads, ChatRoute.Harmful));
        Update(ref _harmless, flat, Positions(routes, reads, ChatRoute.Harmless));
    }

    static long[] Positions(IReadOnlyList<ChatRoute> routes, IReadOnlyList<bool> reads, ChatRoute route) =>
        Enumerable.Range(0, routes.Count).Where(i => reads[i] && routes[i] == route).Select(i => (long)i).ToArray();

    static void Update(ref Tensor? mean, Tensor flat, long[] positions)
    {
        if (positions.Length == 0) return;
        using var index = tensor(positions);
        var batchMean = flat.index_select(0, index).mean([0]);
        var next = mean is null ? batchMean : mean * Momentum + batchMean * (1 - Momentum);
        next.DetachFromDisposeScope();
        if (!ReferenceEquals(next, batchMean)) batchMean.Dispose();
        mean?.Dispose();
        mean = next;
    }

    /// <summary>A <c>[B, T, 1]</c> mask of the tokens whose route <paramref name="selected"/> accepts; null if none.</summary>
    static Tensor? Mask(IReadOnlyList<ChatRoute> routes, long rows, long length, Func<ChatRoute, bool> selected)
    {
        var values = routes.Select(r => selected(r) ? 1f : 0f).ToArray();
        return values.Any(v => v != 0) ? tensor(values, [rows, length, 1]) : null;
    }

    public void Dispose()
    {
        _harmful?.Dispose();
        _harmless?.Dispose();
    }
}
