using System.ComponentModel;

namespace NotebookLens.Interactive;

/// <summary>
/// Hands a value to code submitted to the C# kernel (see <c>ModelMagic.SetVariableAsync</c>); not for direct use.
/// .NET Interactive's SendValue declares a variable with the value's type name, which for a nested type such as
/// TorchSharp's <c>torch+Tensor</c> is not C#, so such values are declared by submitted code that takes them from here.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VariableHandoff
{
    // A kernel runs one cell at a time, so one slot is enough.
    static object? _pending;

    internal static void Give(object value) => Interlocked.Exchange(ref _pending, value);

    public static object Take() =>
        Interlocked.Exchange(ref _pending, null) ?? throw new InvalidOperationException("No value was handed over.");
}
