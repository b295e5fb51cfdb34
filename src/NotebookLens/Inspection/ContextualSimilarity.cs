using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
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
/// <param name="Prompts">The distinct sentences as encoded, in order of first appearance.</param>
/// <param name="TokenTexts">For each item, the token whose hidden state is compared (the word's last token).</param>
/// <param name="TokenIndices">Its index in the item's prompt.</param>
/// <param name="Raw">Per layer, the items × items cosine similarities.</param>
/// <param name="Normalized">Per layer, <c>Raw / Baseline</c>.</param>
public sealed record SimilarityResult(
    ModelRef Model,
    IReadOnlyList<WordInContext> Items,
    IReadOnlyList<Prompt> Prompts,
    IReadOnlyList<string> TokenTexts,
    IReadOnlyList<int> TokenIndices,
    IReadOnlyList<Matrix> Raw,
    IReadOnlyList<Matrix> Normalized,
    IReadOnlyList<double> Baseline)
{
    public int Layers => Raw.Count;
}

public static class ContextualSimilarity
{
    /// <summary>The <c>occurrence</c>-th <paramref name="word"/> of each sentence, compared pairwise.</summary>
    public static SimilarityResult Compare(TextModel lens, string word, IEnumerable<string> sentences, int occurrence = 1) =>
        Compare(lens, sentences.Select(s => new WordInContext(s, word, occurrence)).ToList());

    public static SimilarityResult Compare(TextModel lens, IReadOnlyList<WordInContext> items)
    {
        if (items.Count < 2) throw new LensException(LensErrorKind.OutOfRange, "Compare at least two occurrences.", "Give two or more sentences.", "sentences");
        using var scope = NewDisposeScope();
        int layers = lens.Config.NumLayers + 1;
        // One forward pass per distinct sentence: its prompt and float32 hidden states [T, D] per layer.
        var runs = new Dictionary<string, (Prompt Prompt, Tensor[] Hidden)>();
        foreach (var sentence in items.Select(i => i.Sentence).Distinct())
        {
            var prompt = lens.Prompt(sentence);
            var run = lens.Forward(prompt, new ForwardOptions { HiddenStates = true });
            runs[sentence] = (prompt, run.HiddenStates!.Select(h => h[0].to(ScalarType.Float32)).ToArray());
        }
        var indices = items.Select(i => runs[i.Sentence].Prompt.Locate(i.Word, i.Occurrence)).ToList();
        var texts = items.Select((item, k) => runs[item.Sentence].Prompt.Tokens[indices[k]].Text).ToList();
        var labels = items.Select((item, k) => $"{k + 1}: {texts[k].Trim()}").ToList();
        var device = lens.Model.Device;

        var raw = new List<Matrix>();
        var normalized = new List<Matrix>();
        var baseline = new double[layers];
        for (int l = 0; l < layers; l++)
        {
            var pooled = runs.Values.Select(r =>
            {
                var plain = r.Prompt.Tokens.Where(t => !t.Special).Select(t => (long)t.Index).ToArray();
                return r.Hidden[l].index_select(0, tensor(plain, device: device));
            });
            var all = nn.functional.normalize(cat(pooled.ToList(), 0), dim: 1);
            long p = all.shape[0];
            // Sum over all ordered pairs minus the p self-pairs (each exactly 1 after normalising), over p(p - 1) pairs.
            baseline[l] = p < 2 ? 1.0 : (all.matmul(all.t()).sum().item<float>() - p) / (p * (p - 1));
            var vectors = nn.functional.normalize(stack(items.Select((item, k) => runs[item.Sentence].Hidden[l][indices[k]]).ToArray()), dim: 1);
            var sims = Matrix.From(vectors.matmul(vectors.t()), labels, labels);
            raw.Add(sims);
            double b = baseline[l];
            normalized.Add(sims.Select(v => v / b));
        }
        return new SimilarityResult(lens.Ref, items, runs.Values.Select(r => r.Prompt).ToList(), texts, indices, raw, normalized, baseline);
    }
}
