using System.Runtime.InteropServices;

namespace NotebookLens.Runtime;

/// <summary>
/// The C library's environment, which native libraries read with <c>getenv</c>. On Unix .NET keeps a copy of its own:
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes that copy alone.
/// </summary>
internal static partial class NativeEnvironment
{
    /// <summary>
    /// Sets <paramref name="name"/> to <paramref name="value"/> unless the process's environment already sets it. Null
    /// when set; otherwise what holds instead, for <see cref="TorchRuntime.Status"/>.
    /// </summary>
    public static string? SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } set) return $"{set} (the environment's)";
        try
        {
            return SetEnv(name, value, overwrite: 0) == 0 ? null : "unchanged (setenv refused)";
        }
        catch (EntryPointNotFoundException)
        {
            return "unchanged (no setenv)";
        }
    }

    /// <summary>The value native code reads, or null.</summary>
    public static string? Get(string name) => Marshal.PtrToStringUTF8(GetEnv(name));

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);
}
