using System.Buffers.Binary;
using System.Text;

namespace NotebookLens.Runtime;

/// <summary>A symbol-version requirement (<c>Elf64_Vernaux</c>) of a shared library.</summary>
/// <param name="Library">The library the version is needed from (<c>vn_file</c>), e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Name">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Hash">The stored <c>vna_hash</c> (the ELF hash of the name).</param>
/// <param name="Index">The version index symbols refer to through <c>.gnu.version</c>.</param>
/// <param name="AuxOffset">File offset of the <c>Elf64_Vernaux</c> entry.</param>
/// <param name="NameOffset">File offset of the name in <c>.dynstr</c>.</param>
internal sealed record ElfVersionNeed(string Library, string Name, uint Hash, ushort Index, long AuxOffset, long NameOffset);

/// <summary>
/// Just enough of an ELF64 little-endian reader to see which symbol versions a shared library
/// needs and defines. We read section headers, which every linker-produced .so keeps.
/// </summary>
internal sealed class ElfImage
{
    const uint ShtDynsym = 11;
    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;
    const uint ShtGnuVersym = 0x6fffffff;

    readonly byte[] _bytes;
    readonly List<Section> _sections = [];

    sealed record Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntrySize);

    ElfImage(byte[] bytes, string origin)
    {
        _bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException($"{origin} is not an ELF file.");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException($"{origin} is not a 64-bit little-endian ELF file.");
        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > bytes.Length)
            throw new InvalidDataException($"{origin} has no readable section headers.");
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            _sections.Add(new Section(U32(h + 4), (long)U64(h + 24), (long)U64(h + 32), U32(h + 40), U32(h + 44), (long)U64(h + 56)));
        }
        VersionNeeds = ReadVersionNeeds();
        VersionDefinitions = ReadVersionDefinitions();
    }

    public static ElfImage Read(string path) => new(File.ReadAllBytes(path), path);

    public static ElfImage Read(byte[] bytes) => new(bytes, "The image");

    public IReadOnlyList<ElfVersionNeed> VersionNeeds { get; }

    public IReadOnlySet<string> VersionDefinitions { get; }

    /// <summary>Names of the dynamic symbols bound to a version index (through <c>.gnu.version</c>).</summary>
    public IReadOnlyList<string> SymbolsOfVersion(ushort index)
    {
        var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym is null || versym is null) return [];
        var strtab = _sections[(int)dynsym.Link];
        var names = new List<string>();
        long count = dynsym.Size / 24;
        for (long i = 0; i < count; i++)
        {
            // The top bit marks a hidden version; the index is the low 15 bits.
            if ((U16(versym.Offset + 2 * i) & 0x7fff) != index) continue;
            names.Add(CString(strtab.Offset + U32(dynsym.Offset + 24 * i)));
        }
        return names;
    }

    /// <summary>The System V ELF hash that <c>vna_hash</c> and <c>vd_hash</c> hold.</summary>
    public static uint Hash(string name)
    {
        uint h = 0;
        foreach (byte b in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + b;
            uint g = h & 0xf0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    List<ElfVersionNeed> ReadVersionNeeds()
    {
        var result = new List<ElfVersionNeed>();
        var sec = _sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        if (sec is null) return result;
        long strOff = _sections[(int)sec.Link].Offset;
        long vn = sec.Offset;
        for (uint n = 0; n < sec.Info; n++)
        {
            ushort cnt = U16(vn + 2);
            string file = CString(strOff + U32(vn + 4));
            long aux = vn + U32(vn + 8);
            for (int a = 0; a < cnt; a++)
            {
                long nameOffset = strOff + U32(aux + 8);
                result.Add(new ElfVersionNeed(file, CString(nameOffset), U32(aux), U16(aux + 6), aux, nameOffset));
                uint next = U32(aux + 12);
                if (next == 0) break;
                aux += next;
            }
            uint vnNext = U32(vn + 12);
            if (vnNext == 0) break;
            vn += vnNext;
        }
        return result;
    }

    HashSet<string> ReadVersionDefinitions()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var sec = _sections.FirstOrDefault(s => s.Type == ShtGnuVerdef);
        if (sec is null) return result;
        long strOff = _sections[(int)sec.Link].Offset;
        long vd = sec.Offset;
        for (uint n = 0; n < sec.Info; n++)
        {
            // The first Verdaux of a definition names the version itself; later ones name its parents.
            result.Add(CString(strOff + U32(vd + U32(vd + 12))));
            uint next = U32(vd + 16);
            if (next == 0) break;
            vd += next;
        }
        return result;
    }

    ushort U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(Span(at, 2));
    uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(Span(at, 4));
    ulong U64(long at) => BinaryPrimitives.ReadUInt64LittleEndian(Span(at, 8));

    ReadOnlySpan<byte> Span(long at, int length)
    {
        if (at < 0 || at + length > _bytes.Length)
            throw new InvalidDataException($"ELF structure at offset {at} lies outside the file.");
        return _bytes.AsSpan((int)at, length);
    }

    string CString(long at)
    {
        if (at < 0 || at >= _bytes.Length) throw new InvalidDataException($"ELF string at offset {at} lies outside the file.");
        int end = Array.IndexOf(_bytes, (byte)0, (int)at);
        if (end < 0) throw new InvalidDataException($"ELF string at offset {at} is not terminated.");
        return Encoding.ASCII.GetString(_bytes, (int)at, end - (int)at);
    }
}
