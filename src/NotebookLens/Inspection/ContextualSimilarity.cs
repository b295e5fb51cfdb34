using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>A word occurrence to compare: the <c>Occurrence</c>-th (1-based) <c>Word</c> of <c>Sentence</c>.</summary>
public sealed record WordInContext(string Sentence, string Word, int Occurrence = 1);

/// <summary>
/// Cosine similarity between the hidden states of word occurrences, at every layer (transformers'
/// <c>hidden_states</c>: index 0 is the embedding output, the last is normalised). <c>Normalized</c> divides
/// by that layer's <c>Baseline</c>: the mean cosine similarity of all pairs of distinct tokens of all the
/// sentences (special tokens left out), because hidden states grow more alike with depth whatever they say.
/// </summary>
public sealed record SimilarityResult(
    IReadOnlyList<WordInContext> Items,
    IReadOnlyList<string> TokenTexts,
    IReadOnlyList<int> TokenIndices,
    double[][,] Raw,
    double[][,] Normalized,
    double[] Baseline)
{
    public int Layers => Raw.Length;
}

public static class ContextualSimilarity
{
    public static SimilarityResult Compare(LensModel lens, IReadOnlyList<WordInContext> items)
    {
        if (items.Count < 2) throw new ArgumentException("Compare at least two occurrences.", nameof(items));
        using var scope = NewDisposeScope();
        int layers = lens.Config.NumLayers + 1;
        // One forward pass per distinct sentence: its tokens and float32 hidden states [T, D] per layer.
        var runs = new Dictionary<string, (IReadOnlyList<Tokenization.TextToken> Tokens, Tensor[] Hidden)>();
        foreach (var sentence in items.Select(i => i.Sentence).Distinct())
        {
            var tokens = lens.Tokenizer.Tokenize(sentence);
            using var run = lens.Forward(tokens.Select(t => (long)t.Id).ToArray(), new Models.ForwardOptions { HiddenStates = true });
            runs[sentence] = (tokens, run.HiddenStates!.Select(h => h[0].to(ScalarType.Float32)).ToArray());
        }
        var indices = items.Select(i => TokenLocator.Find(runs[i.Sentence].Tokens, i.Sentence, i.Word, i.Occurrence)).ToList();
        var texts = items.Select((item, k) => runs[item.Sentence].Tokens[indices[k]].Text).ToList();

        int n = items.Count;
        var raw = new double[layers][,];
        var normalized = new double[layers][,];
        var baseline = new double[layers];
        for (int l = 0; l < layers; l++)
        {
            var pooled = runs.Values.Select(r =>
            {
                var plain = r.Tokens.Select((t, i) => (t, i)).Where(x => !x.t.Special).Select(x => (long)x.i).ToArray();
                return r.Hidden[l].index_select(0, tensor(plain));
            });
            var all = nn.functional.normalize(cat(pooled.ToList(), 0), dim: 1);
            long p = all.shape[0];
            baseline[l] = p < 2 ? 1.0 : (all.matmul(all.t()).sum().item<float>() - p) / (p * (p - 1));
            var vectors = nn.functional.normalize(stack(items.Select((item, k) => runs[item.Sentence].Hidden[l][indices[k]]).ToArray()), dim: 1);
            var sims = vectors.matmul(vectors.t()).to(ScalarType.Float64).data<double>().ToArray();
            raw[l] = new double[n, n];
            normalized[l] = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    raw[l][i, j] = sims[i * n + j];
                    normalized[l][i, j] = sims[i * n + j] / baseline[l];
                }
        }
        return new SimilarityResult(items, texts, indices, raw, normalized, baseline);
    }
}
