using System.Runtime.InteropServices;

namespace NotebookLens.Runtime;

/// <summary>
/// Machine code the engine carries as bytes (Bf16MatVec's loops with bf16 dot products), mapped executable: instructions .NET
/// has no intrinsic for, without a native library to build and ship for each platform. Linux on x86-64 only (the code
/// follows the System V calling convention); elsewhere, or where the system refuses executable memory (SELinux's
/// execmem), <see cref="Map"/> says no and the managed loops run.
/// </summary>
internal static unsafe class NativeCode
{
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
            if (SystemPages.Map(size, SystemPages.Read | SystemPages.Write) is not { } at) return null;
            code.CopyTo(new Span<byte>((void*)at, code.Length));
            if (SystemPages.Protect(at, size, SystemPages.Read | SystemPages.Execute) == 0) return (void*)at;
            SystemPages.Unmap(at, size);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }
}
