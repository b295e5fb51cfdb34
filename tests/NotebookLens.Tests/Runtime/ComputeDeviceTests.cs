using System.Diagnostics;
using System.Text.Json;
using XDocument = System.Xml.Linq.XDocument;
using NotebookLens.Models;
using ModelRegistry = NotebookLens.ModelRegistry;
using NotebookLens.Runtime;
using TorchSharp;
using static NotebookLens.Tests.Cli.CliRunner;

namespace NotebookLens.Tests.Runtime;

/// <summary>
/// Devices and the libtorch build: these machines have no GPU and are served only libtorch's CPU build, so what is
/// tested is everything up to the GPU (the names, the checks before a load, the messages, the build switch), with
/// the expectation that this process runs the CPU build (a test says so and fails where that is not true).
/// </summary>
public class ComputeDeviceTests
{
    static readonly string Repo = Path.GetFullPath(Path.Combine(Fixtures.Root, "..", ".."));

    [Theory]
    [InlineData("cpu", DeviceType.CPU, null)]
    [InlineData("CPU", DeviceType.CPU, null)]
    [InlineData("cuda", DeviceType.CUDA, null)]
    [InlineData("cuda:0", DeviceType.CUDA, 0)]
    [InlineData(" Cuda:12 ", DeviceType.CUDA, 12)]
    public void Device_names_are_cpu_cuda_and_cuda_with_an_index(string name, DeviceType type, int? index) =>
        Assert.Equal((type, index), ComputeDevice.Parse(name));

    [Theory]
    [InlineData("gpu")]
    [InlineData("mps")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1:2")]
    [InlineData("")]
    public void Other_device_names_are_refused_with_the_forms_that_work(string name)
    {
        var e = Assert.Throws<LensException>(() => ComputeDevice.Parse(name));
        Assert.Equal(LensErrorKind.Unsupported, e.Kind);
        Assert.Equal("Device", e.Setting);
        Assert.Contains($"'{name}'", e.Problem);
        Assert.Equal("Use cpu, cuda or cuda:N (N counts from 0).", e.Remedy);
    }

    [Fact]
    public void The_cpu_with_an_index_other_than_zero_is_not_a_device() =>
        Assert.Throws<LensException>(() => ComputeDevice.Resolve("cpu:1"));

    [Fact]
    public void This_process_runs_the_cpu_build_of_libtorch()
    {
        Assert.False(torch.cuda.is_available());
        Assert.False(TorchRuntime.HasCudaBuild());
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve("cpu").type);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Cuda_on_the_cpu_build_says_which_package_brings_it_before_anything_is_read(string device)
    {
        // A folder that does not exist: the device is checked first, so the error is about the device, not the folder.
        var e = Assert.Throws<LensException>(() => LanguageModel.Load("/nonexistent/model", new LoadOptions { Device = device }));
        Assert.Equal(LensErrorKind.Unsupported, e.Kind);
        Assert.Equal("Device", e.Setting);
        Assert.Equal(ComputeDevice.NoCudaProblem(cudaBuild: false), e.Problem);
        Assert.Contains("CPU build (the TorchSharp-cpu package)", e.Problem);
        Assert.Contains($"TorchSharp-cuda-linux {ComputeDevice.TorchSharpVersion}", e.Remedy);
        Assert.Contains("cpu device", e.Remedy);
        // The process is unchanged: the same model loads on the CPU next.
        using var model = LanguageModel.Load(Fixtures.Llama, new LoadOptions { Device = "cpu" });
        Assert.Equal(DeviceType.CPU, model.Device.type);
    }

    [Fact]
    public void A_registry_says_the_device_is_missing_before_that_the_name_is_taken()
    {
        using var registry = new ModelRegistry();
        registry.Load(Fixtures.Llama, "llama");
        var e = Assert.Throws<LensException>(() => registry.Load(Fixtures.Llama, "llama", new LoadOptions { Device = "cuda" }));
        Assert.Equal("Device", e.Setting);
        Assert.Equal("llama", registry.Current);
        Assert.Single(registry.Models);
    }

    [Fact]
    public void The_cuda_build_loaded_without_a_gpu_is_told_apart_from_the_cpu_build()
    {
        Assert.Contains("CUDA build is loaded but finds no GPU", ComputeDevice.NoCudaProblem(cudaBuild: true));
        Assert.NotEqual(ComputeDevice.NoCudaProblem(true), ComputeDevice.NoCudaProblem(false));
    }

    [Fact]
    public void The_cli_takes_device_and_exits_1_with_the_core_message()
    {
        var (code, output, error) = Run("lens", "--model", Fixtures.Llama, "--text", "hi", "--device", "cuda");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("CPU build (the TorchSharp-cpu package)", error);
        Assert.Contains("TorchSharp-cuda-linux", error);
        var (badCode, _, badError) = Run("lens", "--model", Fixtures.Llama, "--text", "hi", "--device", "gpu");
        Assert.Equal(1, badCode);
        Assert.Contains("'gpu' is not a device", badError);
    }

    [Fact]
    public void The_package_versions_named_in_messages_are_the_ones_built_with()
    {
        var versions = XDocument.Load(Path.Combine(Repo, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
        Assert.Equal(ComputeDevice.TorchSharpVersion, versions["TorchSharp-cpu"]);
        Assert.Equal(ComputeDevice.TorchSharpVersion, versions[ComputeDevice.CudaPackage]);
        Assert.Equal(ComputeDevice.TorchSharpVersion, typeof(torch).Assembly.GetName().Version!.ToString(3));
    }

    [Theory]
    [InlineData(null, "TorchSharp-cpu")]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda", "TorchSharp-cuda-linux")]
    public void The_build_switch_picks_exactly_one_libtorch_build(string? torch, string package)
    {
        var (code, output) = MsBuild(torch, "-getItem:PackageReference");
        Assert.True(code == 0, output);
        var references = JsonDocument.Parse(output).RootElement.GetProperty("Items").GetProperty("PackageReference")
            .EnumerateArray().Select(item => item.GetProperty("Identity").GetString()!).ToList();
        Assert.Single(references, r => r.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.Contains(package, references);
    }

    [Fact]
    public void The_build_switch_refuses_other_builds_by_name()
    {
        var (code, output) = MsBuild("rocm", "-t:CollectPackageReferences");
        Assert.NotEqual(0, code);
        Assert.Contains("NotebookLensTorch is 'rocm': use cpu (the default) or cuda", output);
    }

    /// <summary>Evaluates the core's project (no restore, no build) with <c>NotebookLensTorch</c> set or left out.</summary>
    static (int Code, string Output) MsBuild(string? torch, string what)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo };
        foreach (var arg in new[] { "msbuild", Path.Combine("src", "NotebookLens", "NotebookLens.csproj"), what, "-nologo" }) start.ArgumentList.Add(arg);
        if (torch is not null) start.ArgumentList.Add($"-p:NotebookLensTorch={torch}");
        // The test host's MSBuild variables would point the child at the test's own build.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
