using System.Buffers.Binary;
using System.IO.Compression;

namespace NotebookLens.Views.Charts;

/// <summary>
/// A minimal PNG writer (8-bit RGB, no filtering, zlib from the BCL) for the attention grid's thumbnails: a few
/// hundred tiny images are far lighter for a browser than as many Plotly charts.
/// </summary>
public static class Png
{
    static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>Encodes <paramref name="rgb"/> (width × height × 3 bytes, rows top to bottom).</summary>
    public static byte[] Encode(int width, int height, byte[] rgb)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"{rgb.Length} bytes for {width} x {height} RGB pixels.", nameof(rgb));
        var raw = new byte[height * (width * 3 + 1)];
        for (int y = 0; y < height; y++)
            Array.Copy(rgb, y * width * 3, raw, y * (width * 3 + 1) + 1, width * 3); // filter byte 0: none
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bits per channel
        header[9] = 2;  // truecolour
        Chunk(output, "IHDR", header);
        Chunk(output, "IDAT", Zlib(raw));
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>zlib (RFC 1950) — PNG's IDAT format and what a browser's DecompressionStream("deflate") reads.</summary>
    public static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return output.ToArray();
    }

    static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        output.Write(number);
        var typed = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) typed[i] = (byte)type[i];
        data.CopyTo(typed, 4);
        output.Write(typed);
        uint crc = 0xFFFFFFFFu;
        foreach (var b in typed) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        BinaryPrimitives.WriteUInt32BigEndian(number, crc ^ 0xFFFFFFFFu);
        output.Write(number);
    }
}

/// <summary>Viridis (matplotlib's, sampled at nine stops and interpolated), the colour scale of attention maps.</summary>
public static class Viridis
{
    static readonly (double R, double G, double B)[] Stops =
    [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ];

    /// <summary>The colour of <paramref name="t"/> in [0, 1].</summary>
    public static (byte R, byte G, byte B) At(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        double x = t * (Stops.Length - 1);
        int i = Math.Min((int)x, Stops.Length - 2);
        double f = x - i;
        var (a, b) = (Stops[i], Stops[i + 1]);
        return ((byte)Math.Round(a.R + (b.R - a.R) * f), (byte)Math.Round(a.G + (b.G - a.G) * f), (byte)Math.Round(a.B + (b.B - a.B) * f));
    }
}
