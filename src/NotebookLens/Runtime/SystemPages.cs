using System.Runtime.InteropServices;

namespace NotebookLens.Runtime;

/// <summary>
/// Private anonymous pages straight from the system (Linux's <c>mmap</c>), for the memory the engine keeps outside
/// glibc's heap: machine code (<see cref="NativeCode"/>) and huge-page tensors (<see cref="HugePages"/>).
/// </summary>
internal static partial class SystemPages
{
    public const int Read = 1, Write = 2, Execute = 4;
    const int MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary><paramref name="length"/> bytes of fresh zero pages with <paramref name="protection"/>; null where the system refuses.</summary>
    public static nint? Map(nuint length, int protection)
    {
        nint at = Mmap(0, length, protection, MapPrivate | MapAnonymous, -1, 0);
        return at == -1 ? null : at;
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    public static partial int Protect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    public static partial int Unmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    public static partial int Advise(nint address, nuint length, int advice);
}
