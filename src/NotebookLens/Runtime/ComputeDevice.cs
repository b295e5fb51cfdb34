using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Runtime;

/// <summary>
/// The device a model is asked to run on, checked before any weight is read: a device this process cannot use fails
/// here with what to add, not later inside libtorch with its own message.
/// </summary>
public static partial class ComputeDevice
{
    /// <summary>The NuGet package that brings libtorch's CUDA build for the TorchSharp NotebookLens is built on.</summary>
    public const string CudaPackage = "TorchSharp-cuda-linux";

    /// <summary>The version of <see cref="CudaPackage"/> (and of TorchSharp-cpu) NotebookLens is built with.</summary>
    public const string TorchSharpVersion = "0.107.0";

    [GeneratedRegex(@"^(cpu|cuda)(?::(\d{1,3}))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Form();

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> as a TorchSharp device, once this process is known to be able to use it.</summary>
    public static Device Resolve(string name)
    {
        var (type, index) = Parse(name);
        // Before anything of torch: its first use loads the native library, which needs the preparation.
        TorchRuntime.EnsureLoaded();
        if (type == DeviceType.CPU) return index is null or 0 ? CPU : throw NotADevice(name);
        if (!cuda.is_available())
            throw new LensException(LensErrorKind.Unsupported, NoCudaProblem(TorchRuntime.HasCudaBuild()), NoCudaRemedy, "Device");
        int count = cuda.device_count();
        if (index is { } i && i >= count)
            throw new LensException(LensErrorKind.OutOfRange, Ranges.Message(i, count, "CUDA device", "this machine"), setting: "Device");
        return new Device(DeviceType.CUDA, index ?? 0);
    }

    /// <summary>The device type and index of <paramref name="name"/>, without asking libtorch anything.</summary>
    internal static (DeviceType Type, int? Index) Parse(string name)
    {
        var match = Form().Match(name.Trim());
        if (!match.Success) throw NotADevice(name);
        var type = match.Groups[1].Value.Equals("cpu", StringComparison.OrdinalIgnoreCase) ? DeviceType.CPU : DeviceType.CUDA;
        return (type, match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : null);
    }

    /// <summary>Why CUDA cannot be used: which libtorch this process loaded decides what is missing.</summary>
    internal static string NoCudaProblem(bool cudaBuild) => cudaBuild
        ? "CUDA is not available: libtorch's CUDA build is loaded but finds no GPU (is the NVIDIA driver installed and recent enough for CUDA 12.8, and does CUDA_VISIBLE_DEVICES leave a GPU visible?)."
        : "CUDA is not available: this process runs libtorch's CPU build (the TorchSharp-cpu package), which cannot use a GPU.";

    static readonly string NoCudaRemedy =
        $"On a machine with an NVIDIA GPU, build NotebookLens with libtorch's CUDA build ({CudaPackage} {TorchSharpVersion}; "
        + "see the README's \"Using a GPU machine\"), or load the model on the cpu device.";

    static LensException NotADevice(string name) =>
        new(LensErrorKind.Unsupported, $"'{name}' is not a device NotebookLens runs on.", "Use cpu, cuda or cuda:N (N counts from 0).", "Device");
}
