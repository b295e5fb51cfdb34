using System.Buffers.Binary;
using System.Text;
using CsCheck;
using NotebookLens.Loading;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Robustness;

/// <summary>Generated safetensors files: headers with every field wrong in turn, then bytes flipped, cut or inserted.</summary>
public class SafeTensorsFuzzTests
{
    public SafeTensorsFuzzTests() => TorchRuntime.EnsureLoaded();

    sealed record Case(string Header, byte[] Mutations, int DataBytes, ulong? DeclaredLength)
    {
        public override string ToString() => $"{Header} mutations [{string.Join(",", Mutations)}] data {DataBytes} declared {DeclaredLength}";
    }

    static readonly Gen<string> DType = Gen.Frequency(
        (6, Gen.OneOf("F32", "BF16", "F16", "I64", "U8", "BOOL", "U32", "F8_E4M3").Select(Fuzz.Text)),
        (1, Gen.OneOf("f32", "", "F128", "F32 ").Select(Fuzz.Text)),
        (1, Fuzz.AnyJson));

    // Dimensions whose products overflow 64 bits are what a hostile header uses to pass a byte-count check.
    static readonly Gen<double> Dimension = Gen.Frequency(
        (6, Gen.Int[0, 6].Select(i => (double)i)),
        (2, Gen.OneOf(4294967296.0, 4611686018427387904.0, 2147483648.0, 3037000500.0)),
        (1, Fuzz.Sizes));

    static readonly Gen<string> Shape = Gen.Frequency(
        (8, Dimension.Array[0, 4].Select(d => Fuzz.Array(d.Select(Fuzz.Number)))),
        (1, Fuzz.AnyJson));

    static readonly Gen<double> Offset = Gen.Frequency((8, Gen.Int[0, 80].Select(i => (double)i)), (1, Fuzz.Sizes));

    static readonly Gen<string> Offsets = Gen.Frequency(
        (8, Offset.Array[2, 2].Select(o => Fuzz.Array(o.Select(Fuzz.Number)))),
        (1, Offset.Array[0, 3].Select(o => Fuzz.Array(o.Select(Fuzz.Number)))),
        (1, Fuzz.AnyJson));

    // One key in eight left out, and sometimes all three kept even so.
    static readonly Gen<string> Entry = Gen.Select(DType, Shape, Offsets, Gen.Int[0, 7], (dtype, shape, offsets, drop) =>
        Fuzz.Object(new[] { ("dtype", dtype), ("shape", shape), ("data_offsets", offsets) }
            .Where((_, i) => drop == 7 || (drop & (1 << i)) == 0)));

    // A shape whose element count wraps around 64 bits to the byte span of its offsets (here 0): the attack that a
    // byte-count check alone lets through.
    static readonly Gen<string> WrappingEntry = Gen.Select(Gen.OneOf("[4294967296,4294967296]", "[4611686018427387904,4]", "[2,9223372036854775807,2]"),
        Gen.Int[0, 8], (shape, at) => Fuzz.Object([("dtype", Fuzz.Text("U8")), ("shape", shape), ("data_offsets", $"[{at},{at}]")]));

    static readonly Gen<string> Header = Gen.Select(
        Gen.Select(Gen.OneOf("a", "b", "model.embed_tokens.weight", "__metadata__", ""), Gen.Frequency((12, Entry), (1, WrappingEntry), (2, Fuzz.AnyJson))).Array[0, 5],
        (entries) => Fuzz.Object(entries.Select(e => (e.Item1, e.Item2))));

    static readonly Gen<Case> Cases = Gen.Select(
        Header,
        Gen.Frequency((4, Gen.Const(Array.Empty<byte>())), (1, Gen.Byte.Array[1, 6])),
        Gen.Int[0, 96],
        Gen.Frequency((6, Gen.Const<ulong?>(() => null)), (1, Gen.OneOf<ulong?>(0UL, 1UL, 7UL, ulong.MaxValue, 1UL << 63, 100UL * 1024 * 1024 + 1))),
        (header, mutations, data, declared) => new Case(header, mutations, data, declared));

    [Fact]
    public void Any_header_opens_and_reads_or_fails_with_an_error_naming_the_file()
    {
        var path = Path.Combine(Fixtures.TempDir(), "fuzz.safetensors");
        Fuzz.Check(Cases, c =>
        {
            File.WriteAllBytes(path, Bytes(c));
            using var file = SafeTensorsFile.Open(path);
            using var scope = NewDisposeScope();
            foreach (var name in file.Tensors.Keys) file.Read(name);
        }, path, [typeof(InvalidDataException), typeof(NotSupportedException)], c => c.ToString());
    }

    /// <summary>The file: declared header length, header (mutated: pairs of position and byte; an odd last byte cuts), data.</summary>
    static byte[] Bytes(Case c)
    {
        var header = new List<byte>(Encoding.UTF8.GetBytes(c.Header));
        for (int i = 0; i + 1 < c.Mutations.Length; i += 2)
        {
            if (header.Count == 0) break;
            int at = c.Mutations[i] % header.Count;
            if (c.Mutations[i + 1] % 3 == 0) header.Insert(at, c.Mutations[i + 1]);
            else header[at] = c.Mutations[i + 1];
        }
        if (c.Mutations.Length % 2 == 1) header.RemoveRange(header.Count / 2, header.Count - header.Count / 2);
        var bytes = new byte[8 + header.Count + c.DataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, c.DeclaredLength ?? (ulong)header.Count);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < c.DataBytes; i++) bytes[8 + header.Count + i] = (byte)(i * 37);
        return bytes;
    }
}
