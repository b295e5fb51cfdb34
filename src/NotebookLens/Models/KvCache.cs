using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// Keys and values of every layer for the positions processed so far (after RoPE, one entry per KV
/// head), plus which of those positions are real tokens rather than left padding. Storage grows by
/// doubling, so appending one token does not copy the whole cache, and is not cleared ahead of use
/// (see <see cref="Store"/>). Sliding-window layers keep every position too; the attention mask limits
/// what they see.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys;
    readonly Tensor?[] _values;
    Tensor? _mask;
    long _capacity;
    /// <summary>The one-row cache a <see cref="ForOnePass"/> cache continues.</summary>
    KvCache? _prefix;
    /// <summary>Whether a <see cref="ForOnePass"/> cache's pass is over.</summary>
    bool _passed;

    public KvCache(int layers, long initialCapacity = 64)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _capacity = Math.Max(1, initialCapacity);
    }

    /// <summary>Positions cached (padding included).</summary>
    public long Length { get; private set; }

    public int Layers => _keys.Length;

    /// <summary>[B, Length] with 1 for real tokens and 0 for padding, or null while empty.</summary>
    public Tensor? PaddingMask => _mask?.narrow(1, 0, Length);

    /// <summary>Stores the new keys and values <c>[B, KV, T, d]</c> of a layer; returns all of them, <c>[B, KV, Length + T, d]</c>.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        if (_prefix is { } prefix) return (AfterPrefix(prefix._keys[layer], keys), AfterPrefix(prefix._values[layer], values));
        long t = keys.shape[2];
        if (Length == 0 && _keys.All(k => k is null) && _values.All(v => v is null)) ReserveEveryLayer(keys, values, t);
        _keys[layer] = Store(_keys[layer], keys, t);
        _values[layer] = Store(_values[layer], values, t);
        return (_keys[layer]!.narrow(2, 0, Length + t), _values[layer]!.narrow(2, 0, Length + t));
    }

    /// <summary>
    /// Every layer's storage for the first keys and values, in one block <c>[layers, 2, B, KV, capacity, d]</c>, out of the
    /// way of the activations: made layer by layer as a prefill reached them, each layer's lay among that layer's
    /// activations in the heap. A layer whose keys differ in shape (no supported family has one) takes storage of its own
    /// in <see cref="Store"/>.
    /// </summary>
    void ReserveEveryLayer(Tensor keys, Tensor values, long t)
    {
        if (!keys.shape.SequenceEqual(values.shape) || keys.dtype != values.dtype) return;
        var shape = keys.shape.ToArray();
        shape[2] = Capacity(_capacity, t);
        using var scope = NewDisposeScope();
        var block = empty([Layers, 2, .. shape], dtype: keys.dtype, device: keys.device);
        for (int l = 0; l < Layers; l++)
        {
            _keys[l] = block[l, 0].DetachFromDisposeScope();
            _values[l] = block[l, 1].DetachFromDisposeScope();
        }
    }

    static long Capacity(long capacity, long needed)
    {
        while (capacity < needed) capacity *= 2;
        return capacity;
    }

    /// <summary>
    /// Writes <paramref name="update"/> after the cached positions, in new storage when the old is too short or (before
    /// any position) of another shape. Storage is not cleared (positions are written before <see cref="Append"/> returns
    /// them), so only the positions written take memory: a generation's cache has room for the prompt and every new token
    /// it may make, and eight 128-token prompts of Llama-3.2-1B's shapes allowed 1,000 new tokens and stopped after 8
    /// peaked at 2.61 GB, against 2.86 GB when the room was cleared.
    /// </summary>
    Tensor Store(Tensor? storage, Tensor update, long t)
    {
        bool otherShape = storage is not null && Length == 0
            && (storage.dtype != update.dtype || storage.shape[0] != update.shape[0] || storage.shape[1] != update.shape[1] || storage.shape[3] != update.shape[3]);
        if (storage is null || otherShape || storage.shape[2] < Length + t)
        {
            var shape = update.shape.ToArray();
            shape[2] = Capacity(Math.Max(_capacity, storage?.shape[2] ?? 0), Length + t);
            var grown = empty(shape, dtype: update.dtype, device: update.device).DetachFromDisposeScope();
            if (storage is not null)
            {
                if (Length > 0) grown.narrow(2, 0, Length).copy_(storage.narrow(2, 0, Length)); // none yet when the shape was another
                storage.Dispose();
            }
            storage = grown;
        }
        storage.narrow(2, Length, t).copy_(update);
        return storage;
    }

    /// <summary>Records the padding mask <c>[B, T]</c> of the positions just appended and moves past them.</summary>
    internal void Advance(Tensor paddingMask)
    {
        long t = paddingMask.shape[1];
        if (_mask is null || _mask.shape[1] < Length + t)
        {
            long capacity = Capacity(Math.Max(_capacity, _mask?.shape[1] ?? 0), Length + t);
            var grown = zeros([paddingMask.shape[0], capacity], dtype: ScalarType.Bool, device: paddingMask.device).DetachFromDisposeScope();
            if (_mask is not null)
            {
                grown.narrow(1, 0, Length).copy_(_mask.narrow(1, 0, Length));
                _mask.Dispose();
            }
            _mask = grown;
            _capacity = capacity;
        }
        _mask.narrow(1, Length, t).copy_(paddingMask);
        Length += t;
        _passed = _prefix is not null;
    }

    /// <summary>
    /// A cache for one pass of <paramref name="rows"/> rows that each continue this one-row cache's positions (a prompt
    /// prefix a batch shares, computed once): each layer attends over the prefix's keys and values, broadcast to the rows,
    /// followed by the pass's own, which are made as the layer runs and go with it. Copies of the prefix grown for every
    /// layer, as a cache keeps them, held 220 MB at once in the refusal experiment's scoring passes on Llama-3.2-3B's
    /// shapes (16 prompts, 28 layers, room for 128 positions), faulted in anew at every pass. The pass's positions are not
    /// kept, so the cache takes one pass; this cache must outlive it and is left as it was.
    /// </summary>
    internal KvCache ForOnePass(int rows)
    {
        if (_mask is null || _mask.shape[0] != 1) throw new InvalidOperationException("Only a filled cache of one row can be continued by a batch.");
        using var scope = NewDisposeScope();
        return new KvCache(Layers, _capacity)
        {
            Length = Length, _prefix = this,
            _mask = _mask.narrow(1, 0, Length).repeat(rows, 1).DetachFromDisposeScope(),
        };
    }

    /// <summary>The prefix's keys or values of a layer, broadcast to the rows of <paramref name="update"/>, followed by it.</summary>
    Tensor AfterPrefix(Tensor? stored, Tensor update)
    {
        if (_passed) throw new InvalidOperationException("This cache continued a shared prefix for one pass, whose positions it did not keep: make another for the next pass.");
        if (stored is null) throw new InvalidOperationException("The shared prefix has no keys or values for this layer.");
        return cat([stored.narrow(2, 0, Length).expand(update.shape[0], -1, -1, -1), update], 2);
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
        _mask?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        _mask = null;
        Length = 0;
    }
}
