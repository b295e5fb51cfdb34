using System.Text.Json.Serialization;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>A head and a score (attention weight, or a mean of them).</summary>
public sealed record HeadScore(int Layer, int Head, double Score);

/// <summary>
/// Every layer's and head's attention probabilities for one prompt (eager post-softmax, float32; row = query
/// position, column = key position; masked entries are 0), with the summaries the lecture looks at.
/// </summary>
/// <param name="Maps">Per layer and head (index <c>layer * Heads + head</c>), the row-major [T, T] map.</param>
public sealed record AttentionResult(ModelRef Model, Prompt Prompt, int Layers, int Heads, IReadOnlyList<float[]> Maps)
{
    [JsonIgnore] public int Tokens => Prompt.Count;

    [JsonIgnore] public IReadOnlyList<string> Labels => Prompt.Labels;

    /// <summary>One head's [T, T] map, labelled with the tokens.</summary>
    public Matrix Head(int layer, int head)
    {
        var map = Map(layer, head);
        int t = Tokens;
        return new Matrix(Labels, Labels, Enumerable.Range(0, t).Select(i => map.AsSpan(i * t, t).ToArray().Select(v => (double)v).ToArray()).ToList());
    }

    /// <summary>The heads that attend most from query token <paramref name="from"/> to key token <paramref name="to"/> (indices; negative from the end).</summary>
    public IReadOnlyList<HeadScore> TopHeads(int from, int to, int k = 5)
    {
        int f = Prompt.Position(from), t = Prompt.Position(to);
        return Rank(i => Maps[i][f * Tokens + t], k);
    }

    /// <summary>The heads that attend most from the last token of word <paramref name="from"/> to that of <paramref name="to"/>.</summary>
    public IReadOnlyList<HeadScore> TopHeads(string from, string to, int k = 5) => TopHeads(Prompt.Locate(from), Prompt.Locate(to), k);

    /// <summary>Per layer and head, the mean attention every query after the first pays to the first token (the "sink"): layers × heads.</summary>
    public Matrix FirstTokenAttention()
    {
        int t = Tokens;
        int first = t > 1 ? 1 : 0;
        return new Matrix(Matrix.Numbered(Layers, "layer "), Matrix.Numbered(Heads, "head "), Enumerable.Range(0, Layers).Select(l =>
            Enumerable.Range(0, Heads).Select(h =>
            {
                var map = Maps[l * Heads + h];
                double sum = 0;
                for (int q = first; q < t; q++) sum += map[q * t];
                return sum / (t - first);
            }).ToArray()).ToList());
    }

    float[] Map(int layer, int head)
    {
        Ranges.Check(layer, Layers, "layer");
        Ranges.Check(head, Heads, "head", "each layer");
        return Maps[layer * Heads + head];
    }

    IReadOnlyList<HeadScore> Rank(Func<int, double> score, int k) => Enumerable.Range(0, Layers * Heads)
        .Select(i => new HeadScore(i / Heads, i % Heads, score(i)))
        .OrderByDescending(s => s.Score).ThenBy(s => s.Layer).ThenBy(s => s.Head)
        .Take(k).ToList();
}

public static class AttentionMaps
{
    /// <summary>Every layer's and head's attention map for the prompt (one forward pass).</summary>
    public static AttentionResult Run(TextModel lens, Prompt prompt)
    {
        using var scope = NewDisposeScope();
        var run = lens.Forward(prompt, new ForwardOptions { Attentions = true });
        var maps = run.Attentions!.SelectMany(a =>
        {
            var layer = a[0].to(ScalarType.Float32, CPU).contiguous();
            long heads = layer.shape[0], t = layer.shape[1];
            var flat = layer.ToHostArray<float>();
            return Enumerable.Range(0, (int)heads).Select(h => flat.AsSpan((int)(h * t * t), (int)(t * t)).ToArray());
        }).ToList();
        return new AttentionResult(lens.Ref, prompt, lens.Config.NumLayers, lens.Config.NumHeads, maps);
    }
}
