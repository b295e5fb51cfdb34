using static TorchSharp.torch;

namespace NotebookLens.Inspection;

/// <summary>Which table of token vectors: the input embeddings or the LM head's rows (the same when tied).</summary>
public enum EmbeddingTable
{
    Input,
    Output,
}

/// <summary>A vocabulary entry and its cosine similarity to a query vector.</summary>
public sealed record Neighbor(int Id, string Text, string Token, double Similarity);

/// <summary>What a query word stands for in the table: its token ids (a mean vector when there are several).</summary>
public sealed record EmbeddingQuery(string Text, IReadOnlyList<int> Ids);

/// <summary>
/// Nearest tokens by cosine similarity over the whole vocabulary, and vector arithmetic on token
/// embeddings (<c>冷 − cold + small</c>). Similarities are computed in float32, a block of rows at a time,
/// so a 128k × 3072 bf16 table needs no float32 copy of itself.
/// </summary>
public sealed class EmbeddingSpace : IDisposable
{
    const long BlockRows = 16384;

    readonly LensModel _lens;
    readonly Tensor _table;
    readonly Tensor _norms;

    public EmbeddingSpace(LensModel lens, EmbeddingTable table = EmbeddingTable.Input)
    {
        _lens = lens;
        Table = table;
        _table = table == EmbeddingTable.Input ? lens.Model.Embeddings : lens.Model.LmHead;
        using var scope = NewDisposeScope();
        var norms = new List<Tensor>();
        for (long start = 0; start < _table.shape[0]; start += BlockRows)
            norms.Add(_table.narrow(0, start, Math.Min(BlockRows, _table.shape[0] - start)).to(ScalarType.Float32).norm(1));
        _norms = cat(norms, 0).DetachFromDisposeScope();
    }

    public EmbeddingTable Table { get; }

    /// <summary>The float32 vector of a token id.</summary>
    public Tensor Vector(int id)
    {
        if (id < 0 || id >= _table.shape[0])
            throw new ArgumentOutOfRangeException(nameof(id), $"Token id {id} is outside the embedding table (0 .. {_table.shape[0] - 1}).");
        return _table[id].to(ScalarType.Float32);
    }

    /// <summary>
    /// The ids a text stands for: the vocabulary string itself when it is one (<c>Ġcold</c>, <c>▁cold</c>, <c>冷</c>),
    /// else its tokens without special tokens (" cold" and "cold" differ; several tokens are averaged).
    /// </summary>
    public EmbeddingQuery Resolve(string text)
    {
        if (text.Length == 0) throw new ArgumentException("An empty string has no embedding.", nameof(text));
        if (_lens.Tokenizer.TokenToId(text) is int id) return new EmbeddingQuery(text, [id]);
        var ids = _lens.Tokenizer.Encode(text, addSpecialTokens: false);
        if (ids.Count == 0) throw new ArgumentException($"'{text}' has no tokens.", nameof(text));
        return new EmbeddingQuery(text, ids.ToList());
    }

    /// <summary>The float32 vector of a text: its token's vector, or the mean over its tokens.</summary>
    public Tensor VectorOf(string text)
    {
        var query = Resolve(text);
        using var scope = NewDisposeScope();
        return stack(query.Ids.Select(Vector).ToArray()).mean([0]).MoveToOuterDisposeScope();
    }

    /// <summary>The <paramref name="k"/> most similar vocabulary entries to a vector, most similar first.</summary>
    public IReadOnlyList<Neighbor> Nearest(Tensor vector, int k = 10, IEnumerable<int>? exclude = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        using var scope = NewDisposeScope();
        var v = vector.to(ScalarType.Float32, _table.device).flatten();
        if (v.shape[0] != _table.shape[1])
            throw new ArgumentException($"The vector has {v.shape[0]} entries; this model's embeddings have {_table.shape[1]}.", nameof(vector));
        var dots = new List<Tensor>();
        for (long start = 0; start < _table.shape[0]; start += BlockRows)
            dots.Add(_table.narrow(0, start, Math.Min(BlockRows, _table.shape[0] - start)).to(ScalarType.Float32).matmul(v));
        var similarity = cat(dots, 0) / (_norms * v.norm()).clamp_min(1e-12);
        var excluded = exclude?.ToHashSet() ?? [];
        foreach (var id in excluded) if (id >= 0 && id < similarity.shape[0]) similarity[id] = float.NegativeInfinity;
        var (values, indices) = similarity.topk(Math.Min(k, (int)similarity.shape[0]));
        var ids = indices.data<long>().ToArray();
        var scores = values.data<float>().ToArray();
        return ids.Select((id, i) => new Neighbor((int)id, _lens.Tokenizer.DisplayText((int)id), _lens.Tokenizer.IdToToken((int)id) ?? "", scores[i]))
            .Where(n => !double.IsNegativeInfinity(n.Similarity))
            .ToList();
    }

    /// <summary>The entries nearest to a token or word.</summary>
    public IReadOnlyList<Neighbor> Nearest(string text, int k = 10)
    {
        using var v = VectorOf(text);
        return Nearest(v, k);
    }

    /// <summary>
    /// Nearest entries to Σ plus − Σ minus (e.g. plus: 冷, small; minus: cold). The input tokens are left out by
    /// default, as word-analogy demonstrations do (the first term is otherwise nearly always the answer).
    /// </summary>
    public IReadOnlyList<Neighbor> Arithmetic(IEnumerable<string> plus, IEnumerable<string> minus, int k = 10, bool excludeInputs = true)
    {
        using var scope = NewDisposeScope();
        var plusQueries = plus.Select(Resolve).ToList();
        var minusQueries = minus.Select(Resolve).ToList();
        if (plusQueries.Count == 0) throw new ArgumentException("Arithmetic needs at least one term to add.", nameof(plus));
        Tensor Mean(EmbeddingQuery q) => stack(q.Ids.Select(Vector).ToArray()).mean([0]);
        var sum = plusQueries.Select(Mean).Aggregate((a, b) => a + b);
        foreach (var q in minusQueries) sum = sum - Mean(q);
        var exclude = excludeInputs ? plusQueries.Concat(minusQueries).SelectMany(q => q.Ids) : null;
        return Nearest(sum, k, exclude);
    }

    /// <summary>Parses "冷 - cold + small" into terms to add and to subtract (operators need spaces around them).</summary>
    public static (IReadOnlyList<string> Plus, IReadOnlyList<string> Minus) ParseExpression(string expression)
    {
        var plus = new List<string>();
        var minus = new List<string>();
        var sign = 1;
        foreach (var part in expression.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "+") sign = 1;
            else if (part == "-") sign = -1;
            else (sign > 0 ? plus : minus).Add(part);
        }
        if (plus.Count == 0) throw new ArgumentException($"'{expression}' has no term to add; write e.g. \"冷 - cold + small\".", nameof(expression));
        return (plus, minus);
    }

    public void Dispose() => _norms.Dispose();
}
