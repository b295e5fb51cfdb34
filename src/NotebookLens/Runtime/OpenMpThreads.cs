namespace NotebookLens.Runtime;

/// <summary>
/// libtorch's OpenMP workers (GNU libgomp on Linux) spin after every parallel operation, by default for about
/// 300,000 iterations, waiting for the next one. A decode step alternates libtorch's short operations with our
/// few-row products (<see cref="Models.Bf16MatVec"/>) on .NET threads, so on a small machine a spinning worker holds a
/// core the products need: on 2 cores it took a quarter of all cycles, and a batch-8 decode step of the 1B-shaped
/// benchmark ran at 860–1000 ms against 590 ms with the workers sleeping (batch 1: 267 against 242 ms).
/// libgomp reads its settings once, when libtorch loads it: this sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native
/// environment before that, unless the environment already sets a policy.
/// </summary>
internal static class OpenMpThreads
{
    const string Variable = "OMP_WAIT_POLICY";

    /// <summary>Sets the policy, unless the user did; says what holds.</summary>
    public static string SleepWhenIdle()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } set) return $"OpenMP wait policy {set} ({Variable})";
        if (OpenMpLoaded()) return "OpenMP wait policy unchanged (libgomp was loaded before NotebookLens)";
        return NativeEnvironment.SetDefault(Variable, "PASSIVE") is { } held ? $"OpenMP wait policy {held}" : "OpenMP workers sleep when idle (OMP_WAIT_POLICY=PASSIVE)";
    }

    /// <summary>The policy libgomp will read, from the native environment (not .NET's copy of it).</summary>
    internal static string? NativeValue() => NativeEnvironment.Get(Variable);

    static bool OpenMpLoaded() =>
        File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libgomp", StringComparison.Ordinal));
}
