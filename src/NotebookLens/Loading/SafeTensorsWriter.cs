using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Loading;

/// <summary>Writes tensors as a standard safetensors file that Python's <c>safetensors</c> reads.</summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Tensors are laid out by decreasing element size, then name, and the header is padded to
    /// 8 bytes, so every tensor's offset is aligned for its dtype (and can be memory-mapped as a view).
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        TorchRuntime.EnsureLoaded();
        var items = tensors
            .Select(kv => (kv.Key, Tensor: kv.Value, DType: SafeTensorsDType.NameOf(kv.Value.dtype)))
            .OrderByDescending(t => SafeTensorsDType.ElementSize(t.DType))
            .ThenBy(t => t.Key, StringComparer.Ordinal)
            .ToList();
        var duplicate = items.GroupBy(t => t.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Tensor name '{duplicate.Key}' appears twice.");

        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
                if (k != "format") w.WriteString(k, v);
            w.WriteEndObject();
            long offset = 0;
            foreach (var (name, tensor, dtype) in items)
            {
                long bytes = tensor.NumberOfElements * SafeTensorsDType.ElementSize(dtype);
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (var d in tensor.shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        var header = json.ToArray();
        int padded = (header.Length + 7) / 8 * 8;

        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        file.Write(prefix);
        file.Write(header);
        file.Write(Encoding.ASCII.GetBytes(new string(' ', padded - header.Length)));
        foreach (var (_, tensor, _) in items)
        {
            using var scope = NewDisposeScope();
            file.Write(tensor.cpu().contiguous().bytes);
        }
    }
}
