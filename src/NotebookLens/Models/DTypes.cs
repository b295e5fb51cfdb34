using static TorchSharp.torch;

namespace NotebookLens.Models;

/// <summary>dtype names as PyTorch prints them (<c>bfloat16</c>, <c>float32</c>), for options and display.</summary>
public static class DTypes
{
    static readonly (string Name, ScalarType Type)[] Known =
    [
        ("float32", ScalarType.Float32), ("bfloat16", ScalarType.BFloat16), ("float16", ScalarType.Float16),
        ("float64", ScalarType.Float64), ("int64", ScalarType.Int64), ("int32", ScalarType.Int32),
        ("int16", ScalarType.Int16), ("int8", ScalarType.Int8), ("uint8", ScalarType.Byte), ("bool", ScalarType.Bool),
    ];

    static readonly Dictionary<string, ScalarType> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fp32"] = ScalarType.Float32, ["float"] = ScalarType.Float32, ["bf16"] = ScalarType.BFloat16,
        ["fp16"] = ScalarType.Float16, ["half"] = ScalarType.Float16,
    };

    public static string Name(ScalarType type) =>
        Known.FirstOrDefault(k => k.Type == type).Name ?? type.ToString().ToLowerInvariant();

    /// <summary>Parses a compute dtype a model can run in: float32, bfloat16 or float16 (and fp32, bf16, fp16).</summary>
    public static ScalarType ParseCompute(string name)
    {
        var key = name.Trim().Replace("torch.", "", StringComparison.Ordinal);
        if (Aliases.TryGetValue(key, out var alias)) return alias;
        foreach (var (n, t) in Known)
            if (string.Equals(n, key, StringComparison.OrdinalIgnoreCase) && t is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16)
                return t;
        throw new ArgumentException($"dtype '{name}' is not a compute dtype NotebookLens runs models in. Use float32 (exact parity), bfloat16 (fast) or float16.");
    }
}
