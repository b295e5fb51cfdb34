using System.Globalization;
using NotebookLens.Models;
using NotebookLens.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLens.Tests.Runtime;

/// <summary>Large outputs that outlive a forward pass (the logits) in huge-page memory of their own, read back from /proc/self/smaps.</summary>
public class HugePagesTests
{
    public HugePagesTests() => TorchRuntime.EnsureLoaded();

    static bool Linux => OperatingSystem.IsLinux();

    [Fact]
    public void Small_tensors_and_integer_ones_are_left_to_libtorch()
    {
        if (!Linux) return;
        using var least = HugePages.Empty([HugePages.MinBytes / 2], ScalarType.BFloat16);
        Assert.NotNull(least); // exactly MinBytes
        Assert.Null(HugePages.Empty([HugePages.MinBytes / 2 - 1], ScalarType.BFloat16));
        Assert.Null(HugePages.Empty([HugePages.MinBytes], ScalarType.Int64));
        using var small = HugePages.Output([HugePages.MinBytes / 4 - 1], ScalarType.Float32, CPU, kept: true);
        Assert.Null(Mapping.Of(small) is { } m && m.Flags.Contains("hg") ? m : null);
        using var transient = HugePages.Output([HugePages.MinBytes], ScalarType.Float32, CPU, kept: false);
        Assert.DoesNotContain("hg", Mapping.Of(transient)!.Flags);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 40, 128, 110_000)] // libtorch's product (more rows than the kernel keeps on CPUs with bf16 dot products)
    [InlineData(ScalarType.BFloat16, 8, 32, 560_000)] // a few rows: the kernel's, where it runs
    [InlineData(ScalarType.Float32, 33, 128, 64_000)] // NotebookLens's fp32 loops on AMD CPUs with AVX-512, libtorch's elsewhere
    public void A_kept_product_is_the_same_product_in_huge_pages(ScalarType dtype, int rows, int cols, int features)
    {
        if (!Linux) return;
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(rows + cols + features));
        var x = randn([2, rows, cols], generator: generator).to(dtype);
        var weight = (randn([features, cols], generator: generator) * 0.05).to(dtype);

        var kept = Linear.Project(x, weight, kept: true);
        var transient = Linear.Project(x, weight);
        Assert.Equal(new long[] { 2, rows, features }, kept.shape);
        Assert.Contains("hg", Mapping.Of(kept)!.Flags);
        Assert.True(kept.equal(transient).all().item<bool>(), "the kept product differs from the transient one");
        // Independent of both: the product in float64.
        var exact = F.linear(x.to(ScalarType.Float64), weight.to(ScalarType.Float64));
        double tolerance = dtype == ScalarType.BFloat16 ? 1.0 / 128 : 1e-5;
        var error = (kept.to(ScalarType.Float64) - exact).abs() - exact.abs() * tolerance;
        Assert.True(error.max().item<double>() <= 1e-6, $"largest error beyond {tolerance} relative: {error.max().item<double>()}");
    }

    [Fact]
    public void One_sequences_logits_take_a_block_of_their_own_and_fewer_bytes_the_heap()
    {
        // A decode step's logits, parked from step to step: one sequence of a 128,256-token vocabulary is 256 KB in bf16
        // (HugePages.LogitsMinBytes says why); half the threshold stays on the heap.
        if (!Linux) return;
        using var scope = NewDisposeScope();
        var generator = new Generator(21);
        var x = randn([1, 1, 64], generator: generator).to(ScalarType.BFloat16);
        var head = (randn([128_256, 64], generator: generator) * 0.05).to(ScalarType.BFloat16);
        var logits = Linear.Project(x, head, kept: true);
        Assert.Contains("hg", Mapping.Of(logits)!.Flags);
        var fewer = Linear.Project(x, head.narrow(0, 0, HugePages.LogitsMinBytes / 4), kept: true);
        Assert.Null(Mapping.Of(fewer) is { } m && m.Flags.Contains("hg") ? m : null);
    }

    [Fact]
    public void A_product_that_records_gradients_stays_libtorchs()
    {
        using var scope = NewDisposeScope();
        var x = randn([40, 64], requires_grad: true);
        var weight = randn([65_536, 64]);
        var y = Linear.Project(x, weight, kept: true);
        Assert.True(y.requires_grad);
        y.sum().backward();
        var error = (x.grad! - weight.sum(dim: 0)).abs().max().item<float>();
        Assert.True(error < 1e-3, $"gradient off by {error}");
    }

    [Fact]
    public void A_prompts_logits_are_in_huge_pages_and_its_hidden_states_are_not()
    {
        if (!Linux) return;
        using var model = LanguageModel.Load(Fixtures.Llama);
        using var ids = tensor(Enumerable.Range(0, 72).Select(i => 1000L + 37 * i).ToArray());
        using var result = model.Forward(ids, ForwardOptions.Everything); // 72 x 128,256 bf16 logits: 18.5 MB
        Assert.Contains("hg", Mapping.Of(result.Logits)!.Flags);
        Assert.DoesNotContain("hg", Mapping.Of(result.HiddenStates![1])!.Flags);
    }

    internal static string TransparentHugePages =>
        File.Exists("/sys/kernel/mm/transparent_hugepage/enabled")
            ? File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Split('[', ']')[1]
            : "never";

    /// <summary>One mapping of /proc/self/smaps: its range, VmFlags and AnonHugePages.</summary>
    internal sealed record Mapping(nint Start, nint End, string[] Flags, long AnonHugeKb)
    {
        public static unsafe nint AddressOf(Tensor tensor) => (nint)TensorMemory.Address(tensor);

        public static Mapping? Of(Tensor tensor) => Containing(AddressOf(tensor));

        public static Mapping? Containing(nint address)
        {
            Mapping? found = null;
            nint start = 0, end = 0;
            long huge = 0;
            foreach (var line in File.ReadLines("/proc/self/smaps"))
            {
                var first = line.Split(' ', 2)[0];
                if (first.Contains('-') && !first.EndsWith(':'))
                {
                    var range = first.Split('-');
                    start = nint.Parse(range[0], NumberStyles.HexNumber);
                    end = nint.Parse(range[1], NumberStyles.HexNumber);
                }
                else if (first == "AnonHugePages:") huge = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                else if (first == "VmFlags:" && start <= address && address < end)
                    found = new Mapping(start, end, line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries), huge);
            }
            return found;
        }
    }
}

/// <summary><see cref="HugePages.Linger"/> set until disposed, then as it was.</summary>
internal sealed class LingerFor : IDisposable
{
    readonly TimeSpan _before = HugePages.Linger;

    public LingerFor(TimeSpan linger) => HugePages.Linger = linger;

    public void Dispose() => HugePages.Linger = _before;
}

/// <summary>A block's life, counted over the process's blocks: alone, so no other test maps or frees one meanwhile.</summary>
[Collection(nameof(Robustness.AloneCollection))]
public class HugePageLifetimeTests
{
    public HugePageLifetimeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void A_large_tensor_is_mapped_alone_in_huge_pages_until_its_last_view_goes()
    {
        if (!OperatingSystem.IsLinux()) return;
        int live = HugePages.Live;
        var tensor = HugePages.Empty([2048, 2049], ScalarType.Float32); // 16.8 MB: nine huge pages
        Assert.NotNull(tensor);
        nint at = HugePagesTests.Mapping.AddressOf(tensor!);
        Assert.Equal(0, at % (2 << 20));
        var mapping = HugePagesTests.Mapping.Containing(at)!;
        Assert.Contains("hg", mapping.Flags); // advised for transparent huge pages (MADV_HUGEPAGE)
        Assert.True(mapping.Start <= at && mapping.End >= at + 9 * (2 << 20), $"{mapping.Start:x}-{mapping.End:x} does not hold {at:x} + 18 MB");
        var view = tensor!.narrow(0, 1000, 2);
        using (NewDisposeScope()) // the temporaries the writes and reads make, views of the storage too
        {
            tensor.copy_(arange(2048 * 2049, dtype: ScalarType.Float32).view(2048, 2049));
            if (HugePagesTests.TransparentHugePages != "never")
                Assert.True(HugePagesTests.Mapping.Containing(at)!.AnonHugeKb >= 2048, "no huge page backs the written tensor");
            tensor.Dispose();
            Assert.Equal(live + 1, HugePages.Live); // the view holds the storage
            Assert.Equal(1000f * 2049 + 7, view[0, 7].item<float>());
        }
        using (new LingerFor(TimeSpan.Zero)) // nothing parked: the block goes back with its storage
            view.Dispose();
        Assert.Equal(live, HugePages.Live);
        Assert.Null(HugePagesTests.Mapping.Containing(at)); // handed back to the system
    }

    [Fact]
    public void A_freed_block_waits_for_the_next_output_of_its_size_then_goes_back()
    {
        if (!OperatingSystem.IsLinux()) return;
        using (new LingerFor(TimeSpan.FromMilliseconds(300)))
        {
            HugePages.HandBackParked(); // what earlier tests left
            var first = HugePages.Empty([2048, 2049], ScalarType.Float32)!; // nine huge pages
            nint at = HugePagesTests.Mapping.AddressOf(first);
            first.Dispose();
            Assert.Equal(1, HugePages.ParkedCount);
            Assert.NotNull(HugePagesTests.Mapping.Containing(at)); // still mapped, its pages in memory
            using (var same = HugePages.Empty([2049, 2048], ScalarType.Float32)!) // the next pass's output of that size
                Assert.Equal(at, HugePagesTests.Mapping.AddressOf(same));
            Assert.Equal(1, HugePages.ParkedCount);
            // Another size (another prompt length): the parked block is handed back before a new one is mapped.
            var other = HugePages.Empty([4096, 4096], ScalarType.Float32)!;
            nint otherAt = HugePagesTests.Mapping.AddressOf(other);
            Assert.Equal(0, HugePages.ParkedCount);
            // Unmapped: no mapping holds it, unless the new block's took its addresses.
            Assert.True(HugePagesTests.Mapping.Containing(at) is not { } m || m.Start == HugePagesTests.Mapping.Of(other)!.Start, "the parked block is still mapped");
            other.Dispose();
            Assert.NotNull(HugePagesTests.Mapping.Containing(otherAt));
            Thread.Sleep(1500); // the linger and then some: nothing asked for it
            Assert.Equal(0, HugePages.ParkedCount);
            Assert.Null(HugePagesTests.Mapping.Containing(otherAt));
        }
    }

    /// <summary>
    /// A parked block holds what its last tensors held: a product into it must write every element, where a new mapping
    /// starts as zeros. Each product of <see cref="HugePagesTests.A_kept_product_is_the_same_product_in_huge_pages"/>, into
    /// a block of NaN.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.BFloat16, 40, 128, 110_000)]
    [InlineData(ScalarType.BFloat16, 8, 32, 560_000)]
    [InlineData(ScalarType.Float32, 33, 128, 64_000)]
    public void A_kept_product_in_a_reused_block_overwrites_what_the_block_held(ScalarType dtype, int rows, int cols, int features)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var scope = NewDisposeScope();
        HugePages.HandBackParked();
        var generator = new Generator((ulong)(rows + cols + features));
        var x = randn([2, rows, cols], generator: generator).to(dtype);
        var weight = (randn([features, cols], generator: generator) * 0.05).to(dtype);
        nint at;
        using (NewDisposeScope()) // the block and every wrapper of it go at its end
        {
            var dirty = HugePages.Empty([2, rows, features], dtype)!;
            dirty.fill_(Scalars.Of(double.NaN)); // a rooted scalar: a temporary one may be collected during the call
            at = HugePagesTests.Mapping.AddressOf(dirty);
        }
        Assert.Equal(1, HugePages.ParkedCount);
        var kept = Linear.Project(x, weight, kept: true);
        Assert.Equal(at, HugePagesTests.Mapping.AddressOf(kept));
        Assert.True(kept.equal(Linear.Project(x, weight)).all().item<bool>(), "the product in the reused block differs from the transient one");
    }
}
