using System.Runtime.InteropServices;

namespace NotebookLens.Runtime;

/// <summary>
/// Machine code the engine carries as bytes (Bf16MatVec's loops with bf16 dot products), mapped executable: instructions .NET
/// has no intrinsic for, without a native library to build and ship for each platform. Linux on x86-64 only (the code
/// follows the System V calling convention); elsewhere, or where the system refuses executable memory (SELinux's
/// execmem), <see cref="Map"/> says no and the managed loops run.
/// </summary>
internal static unsafe partial class NativeCode
{
    const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;
    const int Page = 4096;

    /// <summary>
    /// A copy of <paramref name="code"/> in pages of its own, readable and executable but no longer writable; null where
    /// that cannot be had. The pages stay mapped for the life of the process, as the JIT's own code does.
    /// </summary>
    public static void* Map(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || code.IsEmpty) return null;
        var size = (nuint)((code.Length + Page - 1) / Page * Page);
        try
        {
            nint at = Mmap(0, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (at == -1) return null;
            code.CopyTo(new Span<byte>((void*)at, code.Length));
            if (Mprotect(at, size, ProtRead | ProtExec) == 0) return (void*)at;
            Munmap(at, size);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
