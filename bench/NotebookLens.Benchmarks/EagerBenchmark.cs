using System.Diagnostics;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

/// <summary>
/// fp32 prefill against PyTorch's: the same 128-token forward pass, keeping every hidden state and attention map, by
/// NotebookLens and by an HF-style eager forward in PyTorch (<c>eager_llama.py</c>), each in its own process with every
/// core. The two last-position logits are compared first: the ratio means something only if both computed the same.
/// </summary>
static class EagerBenchmark
{
    const int PromptTokens = 128;
    const string Python = "/usr/bin/python3";
    const string Goal = "fp32 prefill >= 1.5x PyTorch eager";

    public static int Run(string dir)
    {
        LoadBenchmark.EnsureCheckpoint(dir);
        if (TorchVersion() is not { } version)
        {
            Goals.Note(Goal, $"not measured, {Python} cannot import torch (Debian: apt-get install python3-torch libopenblas0-pthread)");
            return 0;
        }
        var work = Directory.CreateTempSubdirectory("notebooklens-eager-");
        try
        {
            var random = new Random(1);
            string ids = Path.Combine(work.FullName, "ids.txt");
            File.WriteAllText(ids, string.Join(' ', Enumerable.Range(0, PromptTokens).Select(_ => random.Next(1000, 100000))));
            string ours = Path.Combine(work.FullName, "ours.f32"), theirs = Path.Combine(work.FullName, "torch.f32");
            double oursSeconds = Child.Run("measure-eager", dir, ids, ours)[0];
            var (blas, torchSeconds) = RunPython(dir, ids, theirs);
            float[] a = Floats(ours), b = Floats(theirs);
            double scale = b.Max(Math.Abs), worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Console.WriteLine($"Llama-3.2-1B shapes ({dir}) in float32, {PromptTokens}-token prompt, every hidden state and attention map kept, best of three, {Environment.ProcessorCount} threads each");
            Console.WriteLine($"PyTorch {version} eager (eager_llama.py; BLAS {blas}): {torchSeconds:F2} s; NotebookLens: {oursSeconds:F2} s");
            Console.WriteLine($"last-position logits: largest difference {worst:G3} against a largest logit of {scale:G3}");
            double speedup = torchSeconds / oursSeconds;
            bool same = worst <= 1e-3 * scale;
            Goals.Report(Goal, same && speedup >= 1.5, $"{speedup:F2}x{(same ? "" : " (the logits differ: the two passes did not compute the same thing)")}");
            return same ? 0 : 1;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Prints the best of three fp32 prefills in seconds, after writing the last position's logits to <paramref name="logitsFile"/>.</summary>
    public static int Measure(string dir, string idsFile, string logitsFile)
    {
        TorchRuntime.EnsureLoaded();
        using var model = LanguageModel.Load(dir, new LoadOptions { DType = ScalarType.Float32 });
        using var ids = tensor(File.ReadAllText(idsFile).Split(' ').Select(long.Parse).ToArray());
        using (var warm = ids.narrow(0, 0, 8)) using (model.Forward(warm)) { }
        double best = Timing.BestSeconds(3, () => { using (model.Forward(ids, ForwardOptions.Everything)) { } });
        using (var result = model.Forward(ids))
        using (var last = result.Logits[0, -1].to(ScalarType.Float32))
            File.WriteAllBytes(logitsFile, last.bytes.ToArray());
        Console.WriteLine(best);
        return 0;
    }

    static string? TorchVersion()
    {
        try
        {
            var (code, output) = Exec(Python, "-c", "import torch; print(torch.__version__)");
            return code == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no python3 at all
        }
    }

    /// <summary>The BLAS library the script's torch loaded, and its best time.</summary>
    static (string Blas, double Seconds) RunPython(string dir, string ids, string logits)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "eager_llama.py");
        var (code, output) = Exec(Python, script, dir, ids, logits);
        if (code != 0) throw new InvalidOperationException($"eager_llama.py failed: {output}");
        var lines = output.Split('\n');
        return (lines[^2], double.Parse(lines[^1]));
    }

    static (int Code, string Output) Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return (p.ExitCode, p.ExitCode == 0 ? output : (output + "\n" + error.Result).Trim());
    }

    static float[] Floats(string path) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
