using NotebookLens.Tokenization;

namespace NotebookLens.Training;

/// <summary>
/// The distinct training units as token sequences, weighted by how often they occur, and the count of
/// every adjacent pair. A merge touches only the units that hold its pair, so each merge costs what it
/// changes rather than a pass over the corpus.
/// </summary>
sealed class PairCounts
{
    /// <summary>Most frequent first; ties by the pair's token strings, so training is deterministic.</summary>
    readonly record struct Rank(long Count, string Left, string Right) : IComparable<Rank>
    {
        public int CompareTo(Rank other)
        {
            int c = other.Count.CompareTo(Count);
            if (c == 0) c = string.CompareOrdinal(Left, other.Left);
            return c != 0 ? c : string.CompareOrdinal(Right, other.Right);
        }
    }

    readonly MergeTable _table;
    readonly int[][] _units;
    readonly int[] _lengths;
    readonly long[] _weights;
    readonly Dictionary<long, long> _pairs = [];
    // Units that hold (or once held) each pair; a unit that no longer does is skipped when merged.
    readonly Dictionary<long, HashSet<int>> _where = [];
    // Entries go stale when a count drops; they are checked against _pairs when they reach the top.
    readonly PriorityQueue<long, Rank> _queue = new();

    public PairCounts(MergeTable table, IReadOnlyDictionary<string, long> unitCounts)
    {
        _table = table;
        var units = unitCounts.OrderBy(u => u.Key, StringComparer.Ordinal).ToList();
        _units = new int[units.Count][];
        _lengths = new int[units.Count];
        _weights = new long[units.Count];
        for (int u = 0; u < units.Count; u++)
        {
            _units[u] = table.Symbols(ByteLevelAlphabet.Encode(units[u].Key));
            _lengths[u] = _units[u].Length;
            _weights[u] = units[u].Value;
            var symbols = _units[u];
            for (int i = 0; i + 1 < symbols.Length; i++)
                if (table.CanJoin(symbols[i], symbols[i + 1]))
                {
                    long key = MergeTable.Key(symbols[i], symbols[i + 1]);
                    _pairs[key] = _pairs.GetValueOrDefault(key) + _weights[u];
                    Where(key).Add(u);
                }
        }
        foreach (var (key, count) in _pairs) Enqueue(key, count);
    }

    HashSet<int> Where(long key)
    {
        if (!_where.TryGetValue(key, out var units)) _where[key] = units = [];
        return units;
    }

    void Enqueue(long key, long count) => _queue.Enqueue(key, new Rank(count, _table[(int)(key >> 32)], _table[(int)key]));

    /// <summary>The most frequent pair, if it occurs at least <paramref name="minCount"/> times; it stays the best until merged.</summary>
    public bool TryPeekBest(long minCount, out (int Left, int Right) pair)
    {
        while (_queue.TryPeek(out var key, out var rank))
        {
            long current = _pairs.GetValueOrDefault(key);
            if (current == rank.Count)
            {
                pair = ((int)(key >> 32), (int)key);
                return current >= Math.Max(1, minCount);
            }
            _queue.Dequeue();
            // A count that grew has a fresher entry already; one that shrank needs one.
            if (current > 0 && current < rank.Count) Enqueue(key, current);
        }
        pair = default;
        return false;
    }

    /// <summary>Replaces every occurrence of the pair by <paramref name="merged"/>, leftmost first, and updates the counts.</summary>
    public void Merge(int left, int right, int merged)
    {
        long key = MergeTable.Key(left, right);
        if (!_where.Remove(key, out var holders)) return;
        var delta = new Dictionary<long, long>();
        foreach (int u in holders)
        {
            var symbols = _units[u];
            int n = _lengths[u];
            if (!Holds(symbols, n, left, right)) continue;
            Count(symbols, n, -_weights[u], delta, null);
            int j = 0;
            for (int i = 0; i < n; i++)
            {
                if (i + 1 < n && symbols[i] == left && symbols[i + 1] == right)
                {
                    symbols[j++] = merged;
                    i++;
                }
                else symbols[j++] = symbols[i];
            }
            _lengths[u] = j;
            Count(symbols, j, _weights[u], delta, (u, merged));
        }
        foreach (var (pair, change) in delta)
        {
            if (change == 0) continue;
            long count = _pairs.GetValueOrDefault(pair) + change;
            if (count == 0) _pairs.Remove(pair);
            else _pairs[pair] = count;
            if (change > 0) Enqueue(pair, count);
        }
    }

    static bool Holds(int[] symbols, int n, int left, int right)
    {
        for (int i = 0; i + 1 < n; i++)
            if (symbols[i] == left && symbols[i + 1] == right) return true;
        return false;
    }

    /// <summary>Adds a unit's pairs to <paramref name="delta"/>; <paramref name="holder"/> records the unit under the pairs that touch a new token.</summary>
    void Count(int[] symbols, int n, long weight, Dictionary<long, long> delta, (int Unit, int Token)? holder)
    {
        for (int i = 0; i + 1 < n; i++)
        {
            if (!_table.CanJoin(symbols[i], symbols[i + 1])) continue;
            long key = MergeTable.Key(symbols[i], symbols[i + 1]);
            delta[key] = delta.GetValueOrDefault(key) + weight;
            if (holder is var (unit, token) && (symbols[i] == token || symbols[i + 1] == token)) Where(key).Add(unit);
        }
    }
}
