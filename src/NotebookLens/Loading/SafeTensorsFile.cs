using System.Buffers.Binary;
using System.Text.Json;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Loading;

/// <summary>One tensor's entry in a safetensors header. Offsets are relative to the start of the data.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteCount => End - Begin;
}

/// <summary>
/// A safetensors file, validated when opened and memory-mapped when read: a tensor kept in its
/// stored dtype is a view of the mapped file (no copy; pages come from the page cache on demand).
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L * 1024 * 1024;

    readonly Dictionary<ScalarType, Tensor> _maps = [];
    readonly long _fileLength;

    SafeTensorsFile(string path, long dataStart, long fileLength, Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        _fileLength = fileLength;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>File offset of the first data byte (8 + header length).</summary>
    public long DataStart { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length < 8)
            throw new InvalidDataException($"{path} is truncated: {length} bytes, shorter than the 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8) || headerLength > MaxHeaderBytes)
            throw new InvalidDataException(
                $"{path} is not a valid safetensors file: its header length is {headerLength} bytes but the file has {length} bytes (truncated or not safetensors).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = ParseHeader(path, header, length - dataStart);
        return new SafeTensorsFile(path, dataStart, length, tensors, metadata);
    }

    static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        // The JSON reader checks UTF-8 lazily (a bad name fails when read, with an unrelated exception type).
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new InvalidDataException($"{path}: the safetensors header is not valid UTF-8.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the safetensors header is not valid JSON ({e.Message}).", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: the safetensors header is not a JSON object.");
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                if (entry.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            tensors[entry.Name] = ParseEntry(path, entry.Name, entry.Value, dataLength);
        }
        var ordered = tensors.Values.Where(t => t.ByteCount > 0).OrderBy(t => t.Begin).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"{path}: tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap in the data section.");
        return (tensors, metadata);
    }

    static SafeTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        string Where() => $"{path}: tensor '{name}'";
        try
        {
            var dtype = e.GetProperty("dtype").GetString() ?? "";
            var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (!SafeTensorsDType.IsKnown(dtype))
                throw new InvalidDataException($"{Where()} has unknown dtype '{dtype}'.");
            if (offsets.Length != 2 || shape.Any(d => d < 0))
                throw new InvalidDataException($"{Where()} has a malformed shape or data_offsets.");
            var info = new SafeTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
            // A shape whose element count overflows 64 bits could otherwise pass the byte-count check below; libtorch
            // also refuses such a shape when one dimension is 0 (its strides overflow), so zeros are not exempt.
            long span = 1;
            foreach (long d in shape.Where(d => d > 0))
            {
                if (span > long.MaxValue / d / SafeTensorsDType.ElementSize(dtype))
                    throw new InvalidDataException($"{Where()} has shape [{string.Join(", ", shape)}], more elements than any file can hold.");
                span *= d;
            }
            if (info.Begin < 0 || info.End < info.Begin || info.End > dataLength)
                throw new InvalidDataException(
                    $"{Where()} has data_offsets [{info.Begin}, {info.End}] outside the {dataLength} data bytes of the file (truncated or corrupt download?).");
            long expected = info.ElementCount * SafeTensorsDType.ElementSize(dtype);
            if (expected != info.ByteCount)
                throw new InvalidDataException(
                    $"{Where()}: shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes but data_offsets span {info.ByteCount}.");
            return info;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{Where()} is missing dtype, shape or data_offsets, or they have the wrong JSON type.", ex);
        }
    }

    /// <summary>
    /// The tensor as stored, viewing the memory-mapped file when its offset is aligned for its dtype
    /// (copy-on-write: editing it never changes the file), else as a copy. The caller owns the result.
    /// </summary>
    public Tensor Read(string name)
    {
        if (!Tensors.TryGetValue(name, out var info))
            throw new KeyNotFoundException($"{Path} has no tensor named '{name}'.");
        if (!SafeTensorsDType.TryGetScalarType(info.DType, out var type))
            throw new NotSupportedException(
                $"Tensor '{name}' in {Path} has dtype {info.DType}, which NotebookLens cannot load (supported: {string.Join(", ", SafeTensorsDType.Supported)}).");
        TorchRuntime.EnsureLoaded();
        int size = SafeTensorsDType.ElementSize(info.DType);
        long start = DataStart + info.Begin;
        if (info.ElementCount == 0) return zeros(info.Shape, dtype: type);
        if (start % size == 0)
        {
            using var flat = Map(type, size).narrow(0, start / size, info.ElementCount);
            return flat.view(info.Shape);
        }
        using var bytes = Map(ScalarType.Byte, 1).narrow(0, start, info.ByteCount);
        var copy = empty(info.Shape, dtype: type);
        copy.bytes = bytes.bytes;
        return copy;
    }

    unsafe Tensor Map(ScalarType type, int size)
    {
        lock (_maps)
        {
            if (!_maps.TryGetValue(type, out var map))
            {
                _maps[type] = map = from_file(Path, shared: false, size: _fileLength / size, dtype: type).DetachFromDisposeScope();
                // Mapped 2 MB at a time where the page cache allows: the products read the weights with fewer TLB misses.
                HugePages.Advise((nint)TensorMemory.Address(map), _fileLength / size * size);
            }
            return map;
        }
    }

    /// <summary>
    /// Drops this file's own handles on its mappings. Tensors already read keep their mapping alive
    /// through their storage; a mapping nothing views any more is unmapped. Later reads map again.
    /// </summary>
    public void ReleaseMappings()
    {
        lock (_maps)
        {
            foreach (var m in _maps.Values) m.Dispose();
            _maps.Clear();
        }
    }

    public void Dispose() => ReleaseMappings();
}
