using System.Text.Unicode;
using NotebookLens.Tokenization;

namespace NotebookLens.Training;

/// <summary>
/// The vocabulary and ranked merges of a byte-level BPE being trained, with the encoder that
/// <see cref="BpeModel"/> mirrors (lowest rank first, leftmost first), so the trainer can see exactly
/// how a word will be encoded.
/// </summary>
sealed class MergeTable
{
    readonly List<string> _tokens;
    readonly Dictionary<string, int> _ids;
    readonly List<TokenShape> _shapes;
    readonly List<(int Left, int Right)> _merges;
    readonly Dictionary<long, (int Rank, int Result)> _byPair;

    MergeTable(List<string> tokens, Dictionary<string, int> ids, List<TokenShape> shapes, List<(int, int)> merges, Dictionary<long, (int, int)> byPair)
    {
        _tokens = tokens;
        _ids = ids;
        _shapes = shapes;
        _merges = merges;
        _byPair = byPair;
    }

    /// <summary>The 256 byte symbols in code point order, as Hugging Face's trainer numbers them (Ġ is 220).</summary>
    public static MergeTable Bytes()
    {
        var table = new MergeTable([], new Dictionary<string, int>(StringComparer.Ordinal), [], [], []);
        foreach (var symbol in Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.Symbol((byte)b)).Order())
            table.AddToken(symbol.ToString());
        return table;
    }

    public int Count => _tokens.Count;

    public string this[int id] => _tokens[id];

    public IReadOnlyList<string> Tokens => _tokens;

    public IReadOnlyList<(int Left, int Right)> Merges => _merges;

    public MergeTable Clone() => new([.. _tokens], new(_ids, StringComparer.Ordinal), [.. _shapes], [.. _merges], new(_byPair));

    /// <summary>The byte symbols of a text already spelled in the byte-level alphabet.</summary>
    public int[] Symbols(string byteLevel)
    {
        var ids = new int[byteLevel.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = _ids[byteLevel[i].ToString()];
        return ids;
    }

    /// <summary>
    /// Whether a merge of the two may be learned: both whole UTF-8 characters, or two parts of one character.
    /// A token never holds part of a character together with something else, so Chinese tokens are whole
    /// characters and words, and no merge can glue the last byte of one character to the next at encode time.
    /// </summary>
    public bool CanJoin(int left, int right)
    {
        var (l, r) = (_shapes[left], _shapes[right]);
        return (l == TokenShape.Whole && r == TokenShape.Whole) || (l != TokenShape.Whole && r == TokenShape.Continuation);
    }

    /// <summary>Adds the merge with the next rank; returns the merged token's id (an existing one when the string is already a token).</summary>
    public int Merge(int left, int right)
    {
        var merged = _tokens[left] + _tokens[right];
        if (!_ids.TryGetValue(merged, out var id)) id = AddToken(merged);
        _byPair.TryAdd(Key(left, right), (_merges.Count, id));
        _merges.Add((left, right));
        return id;
    }

    int AddToken(string token)
    {
        int id = _tokens.Count;
        _tokens.Add(token);
        _ids.Add(token, id);
        _shapes.Add(ShapeOf(ByteLevelAlphabet.Decode(token)));
        return id;
    }

    static TokenShape ShapeOf(byte[] bytes) =>
        Utf8.IsValid(bytes) ? TokenShape.Whole
        : bytes.All(b => b is >= 0x80 and <= 0xBF) ? TokenShape.Continuation
        : TokenShape.Partial;

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>The tokens of one pre-token, merged as Hugging Face tokenizers does.</summary>
    public List<int> Encode(string byteLevel)
    {
        var symbols = new List<int>(Symbols(byteLevel));
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue, result = 0;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_byPair.TryGetValue(Key(symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                    (best, bestRank, result) = (i, m.Rank, m.Result);
            if (best < 0) break;
            symbols[best] = result;
            symbols.RemoveAt(best + 1);
        }
        return symbols;
    }
}

/// <summary>How a token's bytes sit in UTF-8: whole characters, or part of one character.</summary>
enum TokenShape : byte
{
    Whole,
    /// <summary>Only continuation bytes: the tail of a character.</summary>
    Continuation,
    /// <summary>The start of a character, without its last byte.</summary>
    Partial,
}
