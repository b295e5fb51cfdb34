using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>A head and a score (attention weight, or a mean of them).</summary>
public sealed record HeadScore(int Layer, int Head, double Score);

/// <summary>
/// Every layer's and head's attention probabilities for one prompt, <c>[L, H, T, T]</c> float32, with the
/// token labels, and the summaries the lecture looks at.
/// </summary>
public sealed class AttentionMaps : IDisposable
{
    AttentionMaps(Tensor probabilities, IReadOnlyList<Tokenization.TextToken> tokens, string text)
    {
        Probabilities = probabilities;
        Tokens = tokens;
        Text = text;
    }

    /// <summary>[L, H, T, T]: row = query position, column = key position; masked entries are 0.</summary>
    public Tensor Probabilities { get; }

    public IReadOnlyList<Tokenization.TextToken> Tokens { get; }

    public string Text { get; }

    public IReadOnlyList<string> Labels => Tokens.Select(t => t.Text).ToList();

    public int Layers => (int)Probabilities.shape[0];

    public int Heads => (int)Probabilities.shape[1];

    public static AttentionMaps Run(LensModel lens, string text)
    {
        var tokens = lens.Tokenizer.Tokenize(text);
        using var scope = NewDisposeScope();
        using var run = lens.Forward(tokens.Select(t => (long)t.Id).ToArray(), new ForwardOptions { Attentions = true });
        var maps = stack(run.Attentions!.Select(a => a[0]).ToArray()).DetachFromDisposeScope();
        return new AttentionMaps(maps, tokens, text);
    }

    /// <summary>One head's [T, T] map as rows of doubles.</summary>
    public double[,] Head(int layer, int head)
    {
        CheckHead(layer, head);
        using var scope = NewDisposeScope();
        long t = Probabilities.shape[2];
        var values = Probabilities[layer, head].to(ScalarType.Float64).data<double>().ToArray();
        var result = new double[t, t];
        for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) result[i, j] = values[i * t + j];
        return result;
    }

    /// <summary>Token index of the last token of the n-th occurrence of a word in the prompt.</summary>
    public int Locate(string word, int occurrence = 1) => TokenLocator.Find(Tokens, Text, word, occurrence);

    /// <summary>The heads that attend most from query token <paramref name="from"/> to key token <paramref name="to"/>.</summary>
    public IReadOnlyList<HeadScore> TopHeads(int from, int to, int k = 5)
    {
        if (from < 0 || from >= Tokens.Count || to < 0 || to >= Tokens.Count)
            throw new ArgumentOutOfRangeException(nameof(from), $"Token positions run from 0 to {Tokens.Count - 1}.");
        using var scope = NewDisposeScope();
        var scores = Probabilities[.., .., from, to].to(ScalarType.Float64).data<double>().ToArray();
        return Rank(scores, k);
    }

    /// <summary>Per layer and head, the mean attention every query after the first pays to the first token (the "sink"): [L, H].</summary>
    public double[,] FirstTokenAttention()
    {
        using var scope = NewDisposeScope();
        long t = Probabilities.shape[2];
        var sink = t > 1 ? Probabilities[.., .., 1.., 0].mean([2]) : Probabilities[.., .., .., 0].mean([2]);
        var values = sink.to(ScalarType.Float64).data<double>().ToArray();
        var result = new double[Layers, Heads];
        for (int l = 0; l < Layers; l++) for (int h = 0; h < Heads; h++) result[l, h] = values[l * Heads + h];
        return result;
    }

    IReadOnlyList<HeadScore> Rank(double[] scores, int k) => scores
        .Select((s, i) => new HeadScore(i / Heads, i % Heads, s))
        .OrderByDescending(s => s.Score).ThenBy(s => s.Layer).ThenBy(s => s.Head)
        .Take(k).ToList();

    void CheckHead(int layer, int head)
    {
        LayerRange.Check(layer, Layers);
        if (head < 0 || head >= Heads) throw new ArgumentOutOfRangeException(nameof(head), $"Head {head} is out of range; layers have heads 0 .. {Heads - 1}.");
    }

    public void Dispose() => Probabilities.Dispose();
}
