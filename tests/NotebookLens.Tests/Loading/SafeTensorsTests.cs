using System.Buffers.Binary;
using System.Text;
using NotebookLens.Loading;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Loading;

public class SafeTensorsTests
{
    public SafeTensorsTests() => TorchRuntime.EnsureLoaded();

    static string Raw(string header, int dataBytes, ulong? declaredLength = null)
    {
        var path = Path.Combine(Fixtures.TempDir(), "x.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Round_trips_every_dtype()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "all.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["bf16"] = randn(3, 5).to(ScalarType.BFloat16),
            ["f16"] = randn(7).to(ScalarType.Float16),
            ["f32"] = randn(2, 3, 4),
            ["f64"] = randn(3).to(ScalarType.Float64),
            ["i64"] = arange(10L),
            ["i32"] = arange(5).to(ScalarType.Int32),
            ["i8"] = tensor(new sbyte[] { -3, 0, 7 }),
            ["u8"] = tensor(new byte[] { 1, 2, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(3.5f),
            ["empty"] = zeros(0, 4),
        };
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["note"] = "hi" });
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("hi", file.Metadata["note"]);
        Assert.Equal(0, file.DataStart % 8);
        foreach (var (name, expected) in tensors)
        {
            var actual = file.Read(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            TensorAssert.Identical(expected, actual, name);
        }
    }

    [Fact]
    public void Reads_are_views_of_the_mapped_file_and_copy_on_write()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "m.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = ones(4, 4), ["b"] = ones(8) });
        var before = File.ReadAllBytes(path);
        using (var file = SafeTensorsFile.Open(path))
        {
            var a = file.Read("a");
            var b = file.Read("b");
            var again = file.Read("a");
            // Two reads of one tensor share memory: no copy was made.
            Assert.Equal(Address(a), Address(again));
            // Both tensors live in one mapping of the file, at their offsets.
            Assert.Equal(file.Tensors["b"].Begin - file.Tensors["a"].Begin, Address(b) - Address(a));
            a.fill_(7);
            Assert.Equal(7f, again[0, 0].item<float>());
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    static long Address(Tensor t) => (long)t.storage<float>().data_ptr() + t.storage_offset() * 4;

    [Fact]
    public void The_mapped_file_is_advised_for_huge_pages_and_stays_copy_on_write()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "big.safetensors");
        // 8 MB of weights: the mapping holds at least three whole 2 MB pages.
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = arange(2 << 20, dtype: ScalarType.Float32) });
        var before = File.ReadAllBytes(path);
        using (var file = SafeTensorsFile.Open(path))
        {
            var w = file.Read("w");
            Assert.Contains(" hg", MappingFlags(Address(w)));
            w[1 << 20].fill_(-1);
            Assert.Equal(-1f, w[1 << 20].item<float>());
            Assert.Equal((1 << 20) + 1f, w[(1 << 20) + 1].item<float>());
        }
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    /// <summary>The VmFlags of the mapping that holds <paramref name="address"/> (<c>hg</c>: advised for huge pages).</summary>
    static string MappingFlags(long address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var range = line.Split(' ')[0].Split('-');
            if (range.Length == 2 && long.TryParse(range[0], System.Globalization.NumberStyles.HexNumber, null, out long start)
                && long.TryParse(range[1], System.Globalization.NumberStyles.HexNumber, null, out long end))
                inside = start <= address && address < end;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line;
        }
        throw new InvalidOperationException($"No mapping holds 0x{address:x}.");
    }

    [Fact]
    public void Misaligned_tensors_are_read_by_copy()
    {
        // A 3-byte U8 tensor first pushes the F32 one to an odd offset.
        var path = Raw("""{"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}""", 7);
        var bytes = File.ReadAllBytes(path);
        BitConverter.GetBytes(2.5f).CopyTo(bytes, bytes.Length - 4);
        File.WriteAllBytes(path, bytes);
        using var file = SafeTensorsFile.Open(path);
        using var f = file.Read("f");
        Assert.Equal(2.5f, f[0].item<float>());
    }

    [Fact]
    public void Missing_file()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/model.safetensors"));
        Assert.Contains("/nonexistent/model.safetensors", e.Message);
    }

    [Fact]
    public void Shorter_than_the_header_length()
    {
        var path = Path.Combine(Fixtures.TempDir(), "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void Header_length_beyond_the_file()
    {
        var path = Raw("{}", 0, declaredLength: 1_000_000);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("header length is 1000000", e.Message);
    }

    [Fact]
    public void Header_that_is_not_json()
    {
        var path = Raw("{not json", 0);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void Offsets_beyond_the_data_mean_a_truncated_file()
    {
        var path = Raw("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Shape_and_byte_count_disagree()
    {
        var path = Raw("""{"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}}""", 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("needs 12 bytes but data_offsets span 8", e.Message);
    }

    [Fact]
    public void Unknown_dtype()
    {
        var path = Raw("""{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}""", 2);
        Assert.Contains("unknown dtype 'Q4'", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void Overlapping_tensors()
    {
        var path = Raw("""{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}""", 6);
        Assert.Contains("overlap", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void Entry_without_data_offsets()
    {
        var path = Raw("""{"a":{"dtype":"U8","shape":[4]}}""", 4);
        Assert.Contains("'a' is missing", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void A_known_dtype_we_cannot_compute_with_is_listed_but_not_read()
    {
        var path = Raw("""{"q":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""", 4);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("F8_E4M3", file.Tensors["q"].DType);
        var e = Assert.Throws<NotSupportedException>(() => file.Read("q"));
        Assert.Contains("F8_E4M3", e.Message);
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void Unknown_tensor_name()
    {
        var path = Raw("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", 1);
        using var file = SafeTensorsFile.Open(path);
        Assert.Contains("no tensor named 'b'", Assert.Throws<KeyNotFoundException>(() => file.Read("b")).Message);
    }
}
