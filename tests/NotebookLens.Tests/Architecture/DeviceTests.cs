using System.Text.RegularExpressions;

namespace NotebookLens.Tests.Architecture;

/// <summary>
/// A code-review check that stands in for a GPU here: every tensor the core creates from nothing names its device,
/// unless it is listed below with the reason it may live on the CPU. An analysis that made its index tensors on the
/// CPU would mix devices on a CUDA model; this fails instead.
/// </summary>
public sealed partial class DeviceTests
{
    [GeneratedRegex(@"(?<![.\w])(tensor|zeros|ones|arange|full|empty|randn|rand|linspace|eye)\(")]
    private static partial Regex Factory();

    // file (relative to src/NotebookLens) and a piece of the line, with why it is fine on the CPU.
    static readonly (string File, string Line, string Why)[] Allowed =
    [
        ("Loading/SafeTensorsFile.cs", "zeros(info.Shape", "checkpoint tensors are read on the CPU and moved by the loader"),
        ("Loading/SafeTensorsFile.cs", "empty(info.Shape", "checkpoint tensors are read on the CPU and moved by the loader"),
        ("Models/RotaryEmbedding.cs", "arange(", "inverse frequencies; HalfTables moves them to the positions' device"),
        ("Generation/PromptBatch.cs", "tensor(ids)", "ids and mask; LanguageModel.Forward moves both to the model's device"),
        ("Steering/RefusalDirection.cs", "tensor(Vector)", "a direction handed to the user and to hook sets, which move it to each activation's device"),
    ];

    [Fact]
    public void Tensors_made_from_nothing_name_their_device()
    {
        var root = Path.Combine(Fixtures.Root, "..", "..", "src", "NotebookLens");
        var found = new List<string>();
        foreach (var path in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories).Where(p => !p.Contains("/obj/") && !p.Contains("/bin/")))
        {
            var file = Path.GetRelativePath(root, path);
            foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l, i + 1)))
            {
                var code = line.Split("//")[0];
                if (!Factory().IsMatch(code) || code.Contains("device:") || code.Contains("_like(")) continue;
                if (Allowed.Any(a => a.File == file && code.Contains(a.Line))) continue;
                found.Add($"{file}:{number}: {line.Trim()}");
            }
        }
        Assert.True(found.Count == 0, "Tensors created without a device (add device: model.Device, or list them with a reason):\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_check_sees_a_factory_call_without_a_device()
    {
        Assert.Matches(Factory(), "var ids = tensor(new long[] { 1 });");
        Assert.DoesNotMatch(Factory(), "var x = y.tensor(z);");
        Assert.DoesNotMatch(Factory(), "var x = my_tensor(z);");
    }

    [GeneratedRegex(@"\.data<\w+>\(")]
    private static partial Regex ElementRead();

    /// <summary>
    /// libtorch reads elements only on the CPU (TorchSharp's <c>data&lt;T&gt;()</c> refuses a CUDA tensor), so every read
    /// goes through <see cref="NotebookLens.Runtime.HostCopy"/>, which copies to the CPU first when it must.
    /// </summary>
    [Fact]
    public void Elements_are_read_through_the_one_copy_to_the_cpu()
    {
        var src = Path.Combine(Fixtures.Root, "..", "..", "src");
        var found = new List<string>();
        foreach (var project in new[] { "NotebookLens", "NotebookLens.Views", "NotebookLens.Interactive", "NotebookLens.Cli" })
            foreach (var path in Directory.GetFiles(Path.Combine(src, project), "*.cs", SearchOption.AllDirectories).Where(p => !p.Contains("/obj/") && !p.Contains("/bin/")))
            {
                if (path.EndsWith(Path.Combine("Runtime", "HostCopy.cs"), StringComparison.Ordinal)) continue;
                foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l, i + 1)))
                    if (ElementRead().IsMatch(line.Split("//")[0])) found.Add($"{Path.GetRelativePath(src, path)}:{number}: {line.Trim()}");
            }
        Assert.True(found.Count == 0, "Elements read without copying to the CPU first (use ToHostArray):\n" + string.Join("\n", found));
        Assert.Matches(ElementRead(), "var v = values.data<float>().ToArray();");
    }
}
