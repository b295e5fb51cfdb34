using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Runtime;

/// <summary>
/// Where numbers leave the model's device: results, views and JSON need them on the CPU, and libtorch reads a tensor's
/// elements only there. One copy per call, and none for a tensor already on the CPU.
/// </summary>
public static class HostCopy
{
    /// <summary>The elements of <paramref name="tensor"/> (of dtype <typeparamref name="T"/>) in row-major order, read on the CPU.</summary>
    public static T[] ToHostArray<T>(this Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type == DeviceType.CPU) return tensor.data<T>().ToArray();
        using var host = tensor.cpu();
        return host.data<T>().ToArray();
    }
}
