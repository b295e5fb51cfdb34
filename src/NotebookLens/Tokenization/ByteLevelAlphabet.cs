using System.Text;

namespace NotebookLens.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character map: printable bytes stand for themselves, the others are
/// shifted to U+0100 and up (so a space becomes <c>Ġ</c>, a newline <c>Ċ</c>).
/// </summary>
public static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = new char[256];
    static readonly Dictionary<char, byte> CharToByte = [];

    static ByteLevelAlphabet()
    {
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            ByteToChar[b] = printable ? (char)b : (char)(256 + shifted++);
            CharToByte[ByteToChar[b]] = (byte)b;
        }
    }

    /// <summary>The character that stands for one byte.</summary>
    public static char Symbol(byte b) => ByteToChar[b];

    /// <summary>The UTF-8 bytes of <paramref name="text"/> spelled in the byte-level alphabet.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, (span, b) =>
        {
            for (int i = 0; i < b.Length; i++) span[i] = ByteToChar[b[i]];
        });
    }

    /// <summary>
    /// The bytes a byte-level token stands for. A token with any character outside the alphabet is
    /// plain text (an added token such as <c>&lt;|eot_id|&gt;</c>) and gives its own UTF-8 bytes, as transformers does.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return Encoding.UTF8.GetBytes(token);
        }
        return bytes;
    }
}
