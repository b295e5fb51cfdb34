using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>
/// What a forward pass keeps beyond its end (hidden states, attention probabilities), in one block of huge pages per
/// dtype mapped when the pass starts and filled slice by slice. Kept outputs cannot reuse memory the pass frees, so from
/// the heap every 4 KB page of theirs faulted at its first write: a 128-token prefill of Llama-3.2-1B's shapes keeping
/// everything (43 MB) made 19,000–20,000 faults a pass, 2,200–2,700 with the blocks, and the blocks took 15 % off its
/// time (medians of ten passes each, alternating, four runs, on an AMD EPYC Zen 5 VM, where a fault costs 6–14 µs). Each kept
/// tensor is a view of its block, which is let go when the last of them is disposed (parked for the next pass's outputs:
/// see <see cref="HugePages"/>). Passes that keep less than <see cref="HugePages.MinBytes"/> in all, record gradients or
/// run off the CPU take libtorch's memory.
/// </summary>
internal sealed class KeptOutputs : IDisposable
{
    /// <summary>No blocks: <see cref="Keep"/> returns its tensor and <see cref="Empty"/> takes libtorch's memory.</summary>
    public static readonly KeptOutputs None = new([]);

    sealed class Block(Tensor elements)
    {
        public Tensor Elements { get; } = elements;
        public long Used { get; set; }
    }

    readonly Dictionary<ScalarType, Block> _blocks;

    KeptOutputs(Dictionary<ScalarType, Block> blocks) => _blocks = blocks;

    /// <summary>
    /// Blocks for a pass that keeps, of each dtype, at most the given number of elements; <see cref="None"/> when they
    /// take less than <see cref="HugePages.MinBytes"/> together, the device is not the CPU or <see cref="HugePages"/> maps
    /// nothing here (not Linux). Where transparent huge pages are off the blocks are faulted in 4 KB pages.
    /// </summary>
    public static KeptOutputs For(IEnumerable<(ScalarType DType, long Elements)> kept, Device device)
    {
        var needs = kept.Where(k => k.Elements > 0).GroupBy(k => k.DType, k => k.Elements).ToDictionary(g => g.Key, g => g.Sum());
        long bytes = needs.Sum(n => n.Value * HugePages.ElementSize(n.Key));
        if (device.type != DeviceType.CPU || bytes < HugePages.MinBytes) return None;
        var blocks = new Dictionary<ScalarType, Block>();
        foreach (var (dtype, elements) in needs)
            if (HugePages.Empty([elements], dtype, minBytes: 0) is { } block)
                blocks[dtype] = new Block(block.DetachFromDisposeScope());
        return blocks.Count == 0 ? None : new KeptOutputs(blocks);
    }

    /// <summary>An uninitialised tensor: the next slice of this pass's block of its dtype while there is room, else libtorch's (or huge pages of its own when large).</summary>
    public Tensor Empty(long[] shape, ScalarType dtype, Device device) =>
        Slice(shape, dtype, device) ?? HugePages.Output(shape, dtype, device, kept: true);

    /// <summary>
    /// <paramref name="tensor"/>'s values in the next slice of its dtype's block, the original disposed when
    /// <paramref name="release"/> (nothing else holds it); the tensor itself when no block has room.
    /// </summary>
    public Tensor Keep(Tensor tensor, bool release)
    {
        if (Slice(tensor.shape, tensor.dtype, tensor.device) is not { } slice) return tensor;
        slice.copy_(tensor);
        if (release) tensor.Dispose();
        return slice;
    }

    Tensor? Slice(long[] shape, ScalarType dtype, Device device)
    {
        if (device.type != DeviceType.CPU || !_blocks.TryGetValue(dtype, out var block)) return null;
        long elements = shape.Aggregate(1L, (n, d) => n * d);
        if (block.Used + elements > block.Elements.shape[0]) return null;
        using var flat = block.Elements.narrow(0, block.Used, elements);
        block.Used += elements;
        return flat.view(shape);
    }

    /// <summary>Lets go of the blocks: each stays mapped while a slice of it lives.</summary>
    public void Dispose()
    {
        foreach (var block in _blocks.Values) block.Elements.Dispose();
    }
}
