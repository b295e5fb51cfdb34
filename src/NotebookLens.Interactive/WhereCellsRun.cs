using System.Diagnostics;
using System.Globalization;
using NotebookLens.Runtime;

namespace NotebookLens.Interactive;

/// <summary>
/// Where this kernel's cells run: host name, process id, device, and free GPU memory on CUDA. Public because a
/// connected remote kernel is asked through C# (<c>#!model connect</c> shows its answer).
/// </summary>
public static class WhereCellsRun
{
    public static string Describe() => $"{System.Net.Dns.GetHostName()}, process {Environment.ProcessId}, device {Device()}";

    static string Device()
    {
        TorchRuntime.EnsureLoaded();
        if (!TorchSharp.torch.cuda.is_available()) return "cpu";
        var gpus = NvidiaSmi();
        return gpus.Count > 0 ? string.Join("; ", gpus) : $"cuda ({TorchSharp.torch.cuda.device_count()} GPUs; free memory unknown: no nvidia-smi)";
    }

    /// <summary>Each GPU's name and free memory, as nvidia-smi reports them (libtorch does not tell free memory).</summary>
    static List<string> NvidiaSmi()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=index,name,memory.free,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var lines = smi.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            smi.WaitForExit();
            return lines.Select(line => line.Split(',', StringSplitOptions.TrimEntries)).Where(f => f.Length == 4)
                .Select(f => $"cuda:{f[0]} {f[1]}, {GigaBytes(f[2])} GB free of {GigaBytes(f[3])} GB").ToList();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [];
        }
    }

    static string GigaBytes(string mebibytes) =>
        double.TryParse(mebibytes, NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) ? (mb / 1024).ToString("F1", CultureInfo.InvariantCulture) : mebibytes;
}
