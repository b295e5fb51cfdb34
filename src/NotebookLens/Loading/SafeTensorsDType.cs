using TorchSharp;

namespace NotebookLens.Loading;

/// <summary>The safetensors dtype names we read and write, and their TorchSharp element types.</summary>
public static class SafeTensorsDType
{
    static readonly Dictionary<string, torch.ScalarType> ByName = new(StringComparer.Ordinal)
    {
        ["BF16"] = torch.ScalarType.BFloat16,
        ["F16"] = torch.ScalarType.Float16,
        ["F32"] = torch.ScalarType.Float32,
        ["F64"] = torch.ScalarType.Float64,
        ["I64"] = torch.ScalarType.Int64,
        ["I32"] = torch.ScalarType.Int32,
        ["I16"] = torch.ScalarType.Int16,
        ["I8"] = torch.ScalarType.Int8,
        ["U8"] = torch.ScalarType.Byte,
        ["BOOL"] = torch.ScalarType.Bool,
    };

    /// <summary>Bytes per element of every dtype the format defines, including ones we cannot compute with.</summary>
    static readonly Dictionary<string, int> Sizes = new(StringComparer.Ordinal)
    {
        ["BF16"] = 2, ["F16"] = 2, ["F32"] = 4, ["F64"] = 8, ["I64"] = 8, ["U64"] = 8, ["I32"] = 4, ["U32"] = 4,
        ["I16"] = 2, ["U16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    public static IEnumerable<string> Supported => ByName.Keys;

    public static bool IsKnown(string name) => Sizes.ContainsKey(name);

    public static int ElementSize(string name) => Sizes[name];

    public static bool TryGetScalarType(string name, out torch.ScalarType type) => ByName.TryGetValue(name, out type);

    public static string NameOf(torch.ScalarType type) =>
        ByName.FirstOrDefault(kv => kv.Value == type).Key
        ?? throw new NotSupportedException($"Tensors of type {type} cannot be stored in safetensors by NotebookLens.");
}
