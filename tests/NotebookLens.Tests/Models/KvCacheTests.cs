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
}
