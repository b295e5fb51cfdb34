using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>A parameter as the lecture lists it: Hugging Face name, shape, dtype, and whether it is in memory.</summary>
public sealed record ModelParameter(string Name, long[] Shape, ScalarType DType, bool Loaded)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
