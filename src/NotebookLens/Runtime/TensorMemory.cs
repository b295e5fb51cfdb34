using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Runtime;

/// <summary>
/// Where a CPU tensor's elements are, for kernels that read weights in place (the mapped checkpoint) instead of
/// copying them. TorchSharp keeps the element pointer internal; its native library exports it as <c>THSTensor_data</c>.
/// </summary>
internal static unsafe class TensorMemory
{
    static readonly delegate* unmanaged<IntPtr, void*> Data =
        (delegate* unmanaged<IntPtr, void*>)TorchRuntime.NativeExport("THSTensor_data");

    /// <summary>Whether <see cref="Address"/> works in this process.</summary>
    public static bool Available => Data != null;

    /// <summary>The address of the first element (storage offset included) of a contiguous CPU tensor.</summary>
    public static void* Address(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException("Only a contiguous CPU tensor can be read in place.", nameof(tensor));
        return Start(tensor);
    }

    /// <summary>The address of the first element of a CPU tensor of any layout: the caller walks it with <c>tensor.stride()</c>.</summary>
    public static void* Start(Tensor tensor)
    {
        if (!Available) throw new PlatformNotSupportedException("TorchSharp's native library does not export THSTensor_data here.");
        if (tensor.device_type != DeviceType.CPU) throw new ArgumentException("Only a CPU tensor can be read in place.", nameof(tensor));
        return Data(tensor.Handle);
    }
}
