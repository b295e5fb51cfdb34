using NotebookLens.Models;
using NotebookLens.Runtime;
using TorchSharp;
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

/// <summary>The nearest vocabulary entries to a word, or to Σ plus − Σ minus.</summary>
/// <param name="Expression">What was asked, as written ("apple", "冷 - cold + small").</param>
public sealed record NeighborsResult(
    ModelRef Model, string Expression, EmbeddingTable Table,
    IReadOnlyList<EmbeddingQuery> Plus, IReadOnlyList<EmbeddingQuery> Minus, IReadOnlyList<Neighbor> Neighbors);

/// <summary>
/// Nearest tokens by cosine similarity over the whole vocabulary, and vector arithmetic on token
/// embeddings (<c>冷 − cold + small</c>). A bf16 table is scanned in bf16 (no float32 copy of a 128k × 3072
/// table, which costs seconds to make), then every token within <see cref="RescoreMargin"/> of the k-th
/// score is rescored exactly in float32, so the ranking and the similarities are the float32 ones.
/// </summary>
public sealed class EmbeddingSpace : IDisposable
{
    /// <summary>Cosine error bound of the bf16 scan (8-bit mantissa: about 2^-8 relative), with room to spare.</summary>
    const double RescoreMargin = 0.02;

    readonly TextModel _lens;
    readonly Tensor _table;
    readonly Tensor _norms;

    public EmbeddingSpace(TextModel lens, EmbeddingTable table = EmbeddingTable.Input)
    {
        _lens = lens;
        Table = table;
        _table = table == EmbeddingTable.Input ? lens.Model.Embeddings : lens.Model.LmHead;
        using var scope = NewDisposeScope();
        _norms = _table.norm(1).to(ScalarType.Float32).DetachFromDisposeScope();
    }

    public EmbeddingTable Table { get; }

    /// <summary>The float32 vector of a token id, a new tensor in the caller's dispose scope (<see cref="Ownership"/>).</summary>
    public Tensor Vector(int id)
    {
        Ranges.Check(id, (int)_table.shape[0], "token id", "the embedding table");
        using var scope = NewDisposeScope();
        return _table[id].to(ScalarType.Float32).clone().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The ids a text stands for: the vocabulary string itself when it is one (<c>Ġcold</c>, <c>▁cold</c>, <c>冷</c>),
    /// else its tokens without special tokens (" cold" and "cold" differ; several tokens are averaged).
    /// </summary>
    public EmbeddingQuery Resolve(string text)
    {
        if (text.Length == 0) throw new LensException(LensErrorKind.NotInInput, "An empty string has no embedding.", setting: "word");
        if (_lens.Tokenizer.TokenToId(text) is int id) return new EmbeddingQuery(text, [id]);
        var ids = _lens.Tokenizer.Encode(text, addSpecialTokens: false);
        if (ids.Count == 0) throw new LensException(LensErrorKind.NotInInput, $"'{text}' has no tokens.", setting: "word");
        return new EmbeddingQuery(text, ids.ToList());
    }

    /// <summary>The float32 vector of a text: its token's vector, or the mean over its tokens.</summary>
    public Tensor VectorOf(string text) => VectorOf(Resolve(text));

    Tensor VectorOf(EmbeddingQuery query)
    {
        using var scope = NewDisposeScope();
        return stack(query.Ids.Select(Vector).ToArray()).mean([0]).MoveToOuterDisposeScope();
    }

    /// <summary>The <paramref name="k"/> most similar vocabulary entries to a vector, most similar first.</summary>
    public IReadOnlyList<Neighbor> Nearest(Tensor vector, int k = 10, IEnumerable<int>? exclude = null) =>
        NearestIds(vector, k, exclude)
            .Select(n => new Neighbor(n.Id, _lens.TokenText(n.Id), _lens.Tokenizer.IdToToken(n.Id) ?? "", n.Similarity))
            .ToList();

    /// <summary>Ids and cosine similarities of the <paramref name="k"/> nearest entries, without labels.</summary>
    public IReadOnlyList<(int Id, double Similarity)> NearestIds(Tensor vector, int k = 10, IEnumerable<int>? exclude = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        using var scope = NewDisposeScope();
        var v = vector.to(ScalarType.Float32, _table.device).flatten();
        if (v.shape[0] != _table.shape[1])
            throw new ArgumentException($"The vector has {v.shape[0]} entries; this model's embeddings have {_table.shape[1]}.", nameof(vector));
        var vNorm = v.norm().clamp_min(Scalars.Of(1e-12));
        var similarity = Models.Linear.Project(v.to(_table.dtype).unsqueeze(0), _table).squeeze(0).to(ScalarType.Float32) / (_norms * vNorm).clamp_min(Scalars.Of(1e-12));
        foreach (var id in exclude ?? []) if (id >= 0 && id < similarity.shape[0]) similarity[id].fill_(Scalars.Of(double.NegativeInfinity));
        int count = Math.Min(k, (int)similarity.shape[0]);
        if (_table.dtype != ScalarType.Float32)
        {
            // Rescore exactly every token the rounded scan cannot rule out.
            var kth = similarity.topk(count).values[-1].item<float>();
            using var threshold = (kth - RescoreMargin).ToScalar();
            var candidates = (similarity >= threshold).logical_and(similarity.isfinite()).nonzero().squeeze(1);
            var rows = _table.index_select(0, candidates).to(ScalarType.Float32);
            var exact = rows.matmul(v) / (rows.norm(1) * vNorm).clamp_min(Scalars.Of(1e-12));
            similarity = full_like(similarity, Scalars.Of(double.NegativeInfinity)).index_put_(exact, candidates);
        }
        var (values, indices) = similarity.topk(count);
        var ids = indices.ToHostArray<long>();
        var scores = values.ToHostArray<float>();
        return ids.Select((id, i) => ((int)id, (double)scores[i])).Where(n => !double.IsNegativeInfinity(n.Item2)).ToList();
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
        var sum = plusQueries.Select(VectorOf).Aggregate((a, b) => a + b);
        foreach (var q in minusQueries) sum = sum - VectorOf(q);
        var exclude = excludeInputs ? plusQueries.Concat(minusQueries).SelectMany(q => q.Ids) : null;
        return Nearest(sum, k, exclude);
    }

    /// <summary>The <paramref name="k"/> entries nearest to a token or word, as a result record.</summary>
    public NeighborsResult Neighbors(string text, int k = 10, CancellationToken cancel = default)
    {
        cancel.ThrowIfCancellationRequested();
        var query = Resolve(text);
        return new NeighborsResult(_lens.Ref, text, Table, [query], [], Nearest(text, k));
    }

    /// <summary>Embedding arithmetic written as "冷 - cold + small" (spaces around the operators), inputs left out.</summary>
    public NeighborsResult Evaluate(string expression, int k = 10, CancellationToken cancel = default)
    {
        cancel.ThrowIfCancellationRequested();
        var (plus, minus) = ParseExpression(expression);
        return new NeighborsResult(_lens.Ref, expression, Table, plus.Select(Resolve).ToList(), minus.Select(Resolve).ToList(), Arithmetic(plus, minus, k));
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
        if (plus.Count == 0) throw new LensException(LensErrorKind.NotInInput, $"'{expression}' has no term to add.", "Write e.g. \"冷 - cold + small\", with spaces around + and -.", "expression");
        return (plus, minus);
    }

    public void Dispose() => _norms.Dispose();
}
