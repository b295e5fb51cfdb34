using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace NotebookLens.Tokenization;

/// <summary>
/// The BPE model of a <c>tokenizer.json</c>, merging exactly as Hugging Face tokenizers does: initial
/// symbols are the word's characters (or its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens under byte
/// fallback), then the lowest-ranked adjacent pair is merged, leftmost first, until none applies.
/// A priority queue keeps this O(n log n) even for a whole paragraph that is one "word" (SentencePiece
/// style tokenizers such as Gemma's have no pre-tokenizer to cut text into short words).
/// </summary>
public sealed class BpeModel
{
    const int CacheableLength = 64;
    const int CacheCapacity = 200_000;

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<long, (int Rank, int NewId)> _merges;
    readonly int[]? _byteIds;
    readonly ConcurrentDictionary<string, (int Id, int Bytes)[]> _cache = new(StringComparer.Ordinal);

    BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int, int)> merges, bool ignoreMerges, int? unkId, bool fuseUnk, int[]? byteIds)
    {
        _vocab = vocab;
        _merges = merges;
        IgnoreMerges = ignoreMerges;
        UnknownId = unkId;
        FuseUnknown = fuseUnk;
        _byteIds = byteIds;
    }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>A word that is itself in the vocabulary is one token, whatever the merges say (Llama 3).</summary>
    public bool IgnoreMerges { get; }

    public bool ByteFallback => _byteIds is not null;

    public int? UnknownId { get; }

    public bool FuseUnknown { get; }

    internal static BpeModel Parse(JsonElement model)
    {
        var type = TokenizerJson.Type(model, "model");
        if (type != "BPE")
            throw new NotSupportedException($"tokenizer.json: model type '{type}' is not supported (BPE is; Llama 3, Gemma 3, Qwen and Mistral use it).");
        foreach (var unsupported in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(unsupported, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw new NotSupportedException($"tokenizer.json: BPE {unsupported} is not supported.");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new NotSupportedException("tokenizer.json: BPE dropout is not supported (it makes tokenization random).");

        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException("tokenizer.json: the BPE model has no \"vocab\" object.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"tokenizer.json: vocabulary entry '{entry.Name}' has no valid id.");
            vocab[entry.Name] = id;
        }

        var merges = new Dictionary<long, (int, int)>();
        if (!model.TryGetProperty("merges", out var mergesJson) || mergesJson.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("tokenizer.json: the BPE model has no \"merges\" array.");
        int rank = 0;
        foreach (var m in mergesJson.EnumerateArray())
        {
            // Two spellings on the hub: "a b" (older files) and ["a", "b"] (newer ones, whose pieces may contain spaces).
            var (left, right) = m.ValueKind switch
            {
                JsonValueKind.String when m.GetString()!.Split(' ') is [var a, var b] => (a, b),
                JsonValueKind.Array when m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String => (m[0].GetString()!, m[1].GetString()!),
                _ => throw new InvalidDataException($"tokenizer.json: merge #{rank} ({m}) is not a pair."),
            };
            if (!vocab.TryGetValue(left, out var l) || !vocab.TryGetValue(right, out var r) || !vocab.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"tokenizer.json: merge #{rank} ('{left}' + '{right}') uses a piece that is not in the vocabulary.");
            merges.TryAdd(Key(l, r), (rank, merged));
            rank++;
        }

        int? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String
            ? vocab.TryGetValue(u.GetString()!, out var uid) ? uid : throw new InvalidDataException($"tokenizer.json: unk_token '{u.GetString()}' is not in the vocabulary.")
            : null;
        int[]? byteIds = null;
        if (TokenizerJson.Bool(model, "byte_fallback", false))
        {
            byteIds = new int[256];
            for (int b = 0; b < 256; b++)
                byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id
                    : throw new InvalidDataException($"tokenizer.json: byte_fallback is on but the vocabulary has no <0x{b:X2}> token.");
        }
        return new BpeModel(vocab, merges, TokenizerJson.Bool(model, "ignore_merges", false), unk, TokenizerJson.Bool(model, "fuse_unk", false), byteIds);
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Appends the word's tokens as (id, number of UTF-8 bytes of the word they cover).</summary>
    /// <param name="word">The word in the model's alphabet (byte-level symbols for GPT-2 style models).</param>
    /// <param name="byteLevel">Each character of the word stands for one byte.</param>
    public void Tokenize(string word, bool byteLevel, List<(int Id, int Bytes)> output)
    {
        if (word.Length == 0) return;
        if (word.Length <= CacheableLength && _cache.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var result = Merge(word, byteLevel);
        if (word.Length <= CacheableLength)
        {
            if (_cache.Count >= CacheCapacity) _cache.Clear();
            _cache[word] = result;
        }
        output.AddRange(result);
    }

    /// <summary>
    /// Adjacent character pairs that occur inside some vocabulary token. No token can span a position
    /// whose two characters are not such a pair, so a long word is cut there into pieces that merge
    /// independently (and hit the cache): exact, and what makes a paragraph-long Gemma "word" fast.
    /// </summary>
    HashSet<long> JoinablePairs => _joinable ??= BuildJoinablePairs();
    HashSet<long>? _joinable;

    HashSet<long> BuildJoinablePairs()
    {
        var pairs = new HashSet<long>();
        foreach (var token in _vocab.Keys)
        {
            int previous = -1;
            foreach (var rune in token.EnumerateRunes())
            {
                if (previous >= 0) pairs.Add(PairKey(previous, rune.Value));
                previous = rune.Value;
            }
        }
        return pairs;
    }

    static long PairKey(int left, int right) => ((long)left << 21) | (uint)right;

    /// <summary>Cuts a word where no vocabulary token can span the cut.</summary>
    IEnumerable<string> Chunks(string word)
    {
        var joinable = JoinablePairs;
        int start = 0, previous = -1, i = 0;
        foreach (var rune in word.EnumerateRunes())
        {
            if (previous >= 0 && !joinable.Contains(PairKey(previous, rune.Value)))
            {
                yield return word[start..i];
                start = i;
            }
            previous = rune.Value;
            i += rune.Utf16SequenceLength;
        }
        yield return word[start..];
    }

    (int Id, int Bytes)[] Merge(string word, bool byteLevel)
    {
        if (word.Length > CacheableLength && !(IgnoreMerges && _vocab.ContainsKey(word)))
        {
            var parts = new List<(int, int)>();
            foreach (var chunk in Chunks(word))
            {
                if (chunk.Length == word.Length) return MergeWord(word, byteLevel);
                Tokenize(chunk, byteLevel, parts);
            }
            return [.. parts];
        }
        return MergeWord(word, byteLevel);
    }

    (int Id, int Bytes)[] MergeWord(string word, bool byteLevel)
    {
        if (IgnoreMerges && _vocab.TryGetValue(word, out var whole))
            return [(whole, byteLevel ? word.Length : Encoding.UTF8.GetByteCount(word))];

        var ids = new List<int>(word.Length);
        var bytes = new List<int>(word.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in word.EnumerateRunes())
        {
            int width = byteLevel ? rune.Utf16SequenceLength : rune.Utf8SequenceLength;
            if (_vocab.TryGetValue(rune.ToString(), out var id))
            {
                ids.Add(id);
                bytes.Add(width);
            }
            else if (_byteIds is not null)
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int i = 0; i < n; i++)
                {
                    ids.Add(_byteIds[utf8[i]]);
                    bytes.Add(1);
                }
            }
            else if (UnknownId is int unk)
            {
                if (FuseUnknown && ids.Count > 0 && ids[^1] == unk) bytes[^1] += width;
                else
                {
                    ids.Add(unk);
                    bytes.Add(width);
                }
            }
            else throw new InvalidDataException($"The tokenizer cannot represent '{rune}' (U+{rune.Value:X4}): it is not in the vocabulary and there is no unk_token or byte fallback.");
        }
        return MergeSymbols(ids, bytes);
    }

    (int, int)[] MergeSymbols(List<int> ids, List<int> bytes)
    {
        int n = ids.Count;
        var id = ids.ToArray();
        var width = bytes.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var queue = new PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>();
        void Offer(int pos)
        {
            if (pos < 0 || next[pos] < 0) return;
            if (_merges.TryGetValue(Key(id[pos], id[next[pos]]), out var merge))
                queue.Enqueue((pos, merge.NewId), (merge.Rank, pos));
        }
        for (int i = 0; i < n - 1; i++) Offer(i);

        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            // Stale entries: the symbol was merged away, or its right neighbour changed since this pair was queued.
            if (width[pos] == 0 || next[pos] < 0) continue;
            int right = next[pos];
            if (!_merges.TryGetValue(Key(id[pos], id[right]), out var merge) || merge.NewId != top.NewId) continue;
            id[pos] = merge.NewId;
            width[pos] += width[right];
            width[right] = 0;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            Offer(prev[pos]);
            Offer(pos);
        }
        var result = new List<(int, int)>();
        for (int i = 0; i >= 0 && i < n; i = next[i]) result.Add((id[i], width[i]));
        return [.. result];
    }
}
