using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tests.Robustness;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

public sealed class KvCacheTests
{
    public KvCacheTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Every_layer_returns_what_was_appended_to_it_across_growth_and_a_layer_of_its_own_shape()
    {
        using var scope = NewDisposeScope();
        var random = new Generator(5);
        // Layer 2 has two KV heads where the others have four: it takes storage of its own.
        long[] heads = [4, 4, 2];
        using var cache = new KvCache(heads.Length, initialCapacity: 4);
        var appended = heads.Select(_ => (Keys: new List<Tensor>(), Values: new List<Tensor>())).ToArray();
        (Tensor, Tensor) last = default;
        foreach (long t in new long[] { 3, 1, 1, 2, 5 }) // a prompt of three, then steps: capacity 4 -> 8 -> 16
        {
            for (int layer = 0; layer < heads.Length; layer++)
            {
                var k = randn([2, heads[layer], t, 8], generator: random);
                var v = randn([2, heads[layer], t, 8], generator: random);
                appended[layer].Keys.Add(k);
                appended[layer].Values.Add(v);
                last = cache.Append(layer, k, v);
                TensorAssert.Identical(cat(appended[layer].Keys, 2), last.Item1, $"layer {layer}'s keys after {cache.Length + t} positions");
                TensorAssert.Identical(cat(appended[layer].Values, 2), last.Item2, $"layer {layer}'s values after {cache.Length + t} positions");
            }
            cache.Advance(ones([2, t], dtype: ScalarType.Int64));
        }
        Assert.Equal(12, cache.Length);
    }

    [Fact]
    public void A_pass_after_a_shared_prefix_sees_the_prefix_then_its_own_positions_once_and_leaves_the_prefix_as_it_was()
    {
        using var scope = NewDisposeScope();
        var random = new Generator(6);
        long[] heads = [4, 4, 2]; // layer 2's keys differ in shape, as in the test above
        using var prefix = new KvCache(heads.Length, initialCapacity: 4);
        var prefixKeys = new Tensor[heads.Length];
        var prefixValues = new Tensor[heads.Length];
        foreach (long t in new long[] { 3, 2 }) // five positions: the storage grows once
        {
            for (int layer = 0; layer < heads.Length; layer++)
                (prefixKeys[layer], prefixValues[layer]) = prefix.Append(layer, randn([1, heads[layer], t, 8], generator: random), randn([1, heads[layer], t, 8], generator: random));
            prefix.Advance(ones([1, t], dtype: ScalarType.Bool));
        }
        prefixKeys = [.. prefixKeys.Select(k => k.clone())];
        prefixValues = [.. prefixValues.Select(v => v.clone())];

        foreach (int rows in new[] { 3, 2 }) // two batches, one after the other, from the same prefix
        {
            using var pass = prefix.ForOnePass(rows);
            Assert.Equal(5, pass.Length);
            TensorAssert.Identical(ones([rows, 5], dtype: ScalarType.Bool), pass.PaddingMask!, "the prefix's padding mask, for every row");
            for (int layer = 0; layer < heads.Length; layer++)
            {
                var k = randn([rows, heads[layer], 4, 8], generator: random);
                var v = randn([rows, heads[layer], 4, 8], generator: random);
                var (keys, values) = pass.Append(layer, k, v);
                TensorAssert.Identical(cat([prefixKeys[layer].expand(rows, -1, -1, -1), k], 2), keys, $"layer {layer}'s keys, {rows} rows");
                TensorAssert.Identical(cat([prefixValues[layer].expand(rows, -1, -1, -1), v], 2), values, $"layer {layer}'s values, {rows} rows");
            }
            var padding = tensor(new[] { false, true, true, true }).expand(rows, -1);
            pass.Advance(padding);
            Assert.Equal(9, pass.Length);
            TensorAssert.Identical(cat([ones([rows, 5], dtype: ScalarType.Bool), padding], 1), pass.PaddingMask!, "the prefix's mask, then the pass's");
            // The pass's positions were not kept: a second pass would attend over the prefix alone.
            var error = Assert.Throws<InvalidOperationException>(() => pass.Append(0, randn([rows, 4, 1, 8]), randn([rows, 4, 1, 8])));
            Assert.Contains("one pass", error.Message);
        }
        Assert.Equal(5, prefix.Length);
        for (int layer = 0; layer < heads.Length; layer++)
        {
            var k = randn([1, heads[layer], 1, 8], generator: random);
            var (keys, values) = prefix.Append(layer, k, k);
            TensorAssert.Identical(cat([prefixKeys[layer], k], 2), keys, $"the prefix's own keys of layer {layer}, continued");
            TensorAssert.Identical(cat([prefixValues[layer], k], 2), values, $"the prefix's own values of layer {layer}, continued");
        }
        using var twoRows = new KvCache(1);
        twoRows.Append(0, randn([2, 4, 1, 8]), randn([2, 4, 1, 8]));
        twoRows.Advance(ones([2, 1], dtype: ScalarType.Bool));
        Assert.Throws<InvalidOperationException>(() => twoRows.ForOnePass(3));
    }
}

/// <summary>Resident memory measured alone: no other test allocates meanwhile.</summary>
[Collection(nameof(AloneCollection))]
public sealed class KvCacheMemoryTests
{
    public KvCacheMemoryTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void A_cache_sized_for_a_long_generation_keeps_only_the_positions_written_in_memory()
    {
        using var scope = NewDisposeScope();
        // 16 layers, 8 KV heads, room for 8,192 positions of 64 fp32 dimensions: 537 MB of storage, of which a
        // 16-token prompt writes 4 KB a head (one page each: 1 MB in all).
        const int layers = 16;
        using var cache = new KvCache(layers, initialCapacity: 8192);
        var keys = randn([1, 8, 16, 64]);
        long before = MemorySnapshot.ResidentBytes();
        for (int layer = 0; layer < layers; layer++) cache.Append(layer, keys, keys);
        long grown = MemorySnapshot.ResidentBytes() - before;
        Assert.True(grown < 64 << 20, $"a 16-token prompt in a cache with room for 8,192 positions took {grown / 1e6:F0} MB");
    }

    [Fact]
    public void A_pass_after_a_shared_prefix_keeps_no_layer_s_keys_past_the_layer()
    {
        using var scope = NewDisposeScope();
        // 16 layers of a 16-position prefix, continued by 64 rows of 16 positions: each layer's keys and values 4 MB apiece
        // (8 KV heads, 64 fp32 dimensions). Kept for every layer, as a cache keeps them, they would be 128 MB at the end.
        const int layers = 16;
        using var prefix = new KvCache(layers, initialCapacity: 32);
        var first = randn([1, 8, 16, 64]);
        for (int layer = 0; layer < layers; layer++) prefix.Append(layer, first, first);
        prefix.Advance(ones([1, 16], dtype: ScalarType.Bool));
        var rest = randn([64, 8, 16, 64]);
        using var pass = prefix.ForOnePass(64);
        long before = MemorySnapshot.ResidentBytes();
        for (int layer = 0; layer < layers; layer++)
        {
            // Each layer's attention drops its keys and values when it is done.
            var (keys, values) = pass.Append(layer, rest, rest);
            keys.Dispose();
            values.Dispose();
        }
        long grown = MemorySnapshot.ResidentBytes() - before;
        Assert.True(grown < 32 << 20, $"a pass of 64 rows over 16 layers kept {grown / 1e6:F0} MB");
    }
}
