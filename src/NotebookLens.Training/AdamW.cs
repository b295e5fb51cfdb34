using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Training;

/// <summary>
/// AdamW (decoupled weight decay) over plain tensors updated in place. The model's weights are tensors our own forward
/// code reads, not TorchSharp <c>Parameter</c>s, so TorchSharp's optimizers cannot hold them.
/// </summary>
sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<(Tensor Weight, bool Decay)> _weights;
    readonly List<Tensor> _m = [], _v = [];
    readonly double _beta1, _beta2, _eps, _weightDecay;
    int _step;

    /// <param name="weights">The tensors to update, each with whether weight decay applies (matrices yes, norms no).</param>
    public AdamW(IReadOnlyList<(Tensor Weight, bool Decay)> weights, double weightDecay, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8)
    {
        _weights = weights;
        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        _weightDecay = weightDecay;
        foreach (var (w, _) in weights)
        {
            _m.Add(zeros_like(w).DetachFromDisposeScope());
            _v.Add(zeros_like(w).DetachFromDisposeScope());
        }
    }

    /// <summary>Scales the gradients so their global norm is at most <paramref name="maxNorm"/>; returns the norm before.</summary>
    public double ClipGradients(double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norms = _weights.Where(w => w.Weight.grad is not null).Select(w => w.Weight.grad!.pow(Scalars.Of(2L)).sum()).ToArray();
        double norm = Math.Sqrt(stack(norms).sum().item<float>());
        if (norm > maxNorm)
        {
            using Scalar factor = maxNorm / (norm + 1e-6);
            foreach (var (w, _) in _weights) w.grad?.mul_(factor);
        }
        return norm;
    }

    public void Step(double learningRate)
    {
        _step++;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double correction1 = 1 - Math.Pow(_beta1, _step), correction2 = 1 - Math.Pow(_beta2, _step);
        using Scalar b1 = _beta1, b2 = _beta2, oneMinusB1 = 1 - _beta1, oneMinusB2 = 1 - _beta2;
        using Scalar stepSize = -learningRate / correction1, eps = _eps, decay = 1 - learningRate * _weightDecay;
        using Scalar sqrtCorrection2 = Math.Sqrt(correction2);
        for (int i = 0; i < _weights.Count; i++)
        {
            var (w, useDecay) = _weights[i];
            if (w.grad is not { } g) continue;
            if (useDecay && _weightDecay > 0) w.mul_(decay);
            _m[i].mul_(b1).add_(g, alpha: oneMinusB1);
            _v[i].mul_(b2).addcmul_(g, g, value: oneMinusB2);
            var denominator = (_v[i].sqrt() / sqrtCorrection2).add_(eps);
            w.addcdiv_(_m[i], denominator, value: stepSize);
        }
    }

    public void ZeroGradients()
    {
        foreach (var (w, _) in _weights)
        {
            // Dropping the gradient (rather than zeroing it) frees its memory between steps, as set_to_none does.
            if (w.grad is { } g)
            {
                w.grad = null;
                g.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
