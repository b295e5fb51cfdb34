using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Steering;

/// <summary>
/// Directional ablation baked into the weights (Arditi et al. 2024, §4.1): every matrix that writes to the residual
/// stream — the embedding table, each attention <c>o_proj</c> and MLP <c>down_proj</c> (and their biases) — is
/// orthogonalised to r̂, so nothing along r̂ is ever written and the model behaves as with
/// <see cref="Interventions.AblateDirection"/>. Hugging Face stores a linear layer as <c>[out, in]</c> with out the
/// residual dimension, so <c>W ← W − r̂ (r̂ᵀ W)</c>; the embedding table <c>[V, D]</c> holds one residual vector per
/// row, so <c>E ← E − (E r̂) r̂ᵀ</c>. The model is edited in place; <see cref="Dispose"/> puts the original weights back
/// (they are kept meanwhile: the edit costs a copy of those matrices). A tied LM head keeps reading the original
/// table during the edit, since ablation by hooks never touches the unembedding.
/// </summary>
public sealed class WeightOrthogonalization : IDisposable
{
    // Rows projected at a time: bounds the float32 working copy of a large embedding table.
    const long ChunkRows = 4096;

    readonly LanguageModel _model;
    readonly List<(Tensor View, Tensor Original)> _edits = [];
    Tensor? _untiedHead;

    WeightOrthogonalization(LanguageModel model) => _model = model;

    /// <summary>Orthogonalises <paramref name="model"/>'s residual-stream writers to <paramref name="direction"/> [D] (any length).</summary>
    public static WeightOrthogonalization Apply(LanguageModel model, Tensor direction)
    {
        // Gemma 3 normalises each sublayer's output after o_proj / down_proj; a norm re-creates a component along r̂.
        if (model.Blocks.Any(b => b.PostFeedforwardNorm is not null))
            throw new NotSupportedException(
                $"{model.Config.ModelType} normalises each attention and MLP output after its projection (sandwich norms), so orthogonalising o_proj and down_proj does not keep the direction out of the residual stream. Ablate with hooks instead (Interventions.AblateDirection).");
        var edit = new WeightOrthogonalization(model);
        try
        {
            using var scope = NewDisposeScope();
            var unit = Interventions.Unit(direction).to(model.Device);
            if (model.TiedEmbeddings)
            {
                edit._untiedHead = model.Embeddings.clone().DetachFromDisposeScope();
                model.OverrideLmHead(edit._untiedHead);
            }
            edit.ProjectRows(model.Embeddings.alias(), unit);
            foreach (var block in model.Blocks)
                foreach (var writer in new[] { block.Attention.O, block.Mlp.Down })
                {
                    edit.ProjectRows(writer.Weight.t(), unit);
                    if (writer.Bias is { } bias) edit.ProjectRows(bias.unsqueeze(0), unit);
                }
            return edit;
        }
        catch
        {
            edit.Dispose();
            throw;
        }
    }

    /// <summary>Removes the r̂ component of every row of <paramref name="rows"/> [N, D], a view of a weight this edit takes over, in place.</summary>
    void ProjectRows(Tensor rows, Tensor unit)
    {
        _edits.Add((rows.DetachFromDisposeScope(), rows.clone().DetachFromDisposeScope()));
        for (long start = 0; start < rows.shape[0]; start += ChunkRows)
        {
            using var scope = NewDisposeScope();
            var chunk = rows.narrow(0, start, Math.Min(ChunkRows, rows.shape[0] - start));
            var x = chunk.to(ScalarType.Float32);
            chunk.copy_(x - x.matmul(unit).unsqueeze(1) * unit);
        }
    }

    /// <summary>Puts the original weights back (and re-ties the LM head).</summary>
    public void Dispose()
    {
        foreach (var (view, original) in _edits)
        {
            view.copy_(original);
            view.Dispose();
            original.Dispose();
        }
        _edits.Clear();
        if (_untiedHead is not null)
        {
            _model.OverrideLmHead(null);
            _untiedHead.Dispose();
            _untiedHead = null;
        }
    }
}
