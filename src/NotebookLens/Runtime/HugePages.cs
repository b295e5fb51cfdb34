using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Runtime;

/// <summary>
/// Tensors in memory mapped for them alone and advised for transparent huge pages, for large outputs that outlive a
/// forward pass (a prompt's logits): the heap cannot hand them a block it already has in memory, so every 4 KB page of
/// theirs faults at its first write. The 128 x 128,256 bf16 logits of a 128-token prompt made 8,100 faults a pass, and
/// the head's product took 156-162 ms (best of seven) against 108-109 with its output in pages already written (AMD EPYC
/// Zen 5 VM, where a fault costs 6-14 µs); in 2 MB pages, 110-111 ms. Where the system refuses (<c>transparent_hugepage</c>
/// set to <c>never</c>) the memory is faulted in 4 KB pages, as the heap's would be. A block whose tensors are gone is
/// parked for <see cref="Linger"/>, and the next pass's outputs of its size take it with its pages in memory: a new
/// mapping's huge pages are zeroed at their first write, at 0.5-16 GB/s on that VM, and a prefill of 128 tokens keeping
/// everything run right after another copied its kept outputs in 5 ms instead of 45 and wrote its logits in 128 instead
/// of 157 ms into blocks written before (alternating passes). Passes run back to back (a loop in a cell, batches of
/// prompts, the refusal experiment, a benchmark) keep their blocks; an idle notebook hands them back.
/// </summary>
internal static unsafe class HugePages
{
    const int MadvHugepage = 14;
    /// <summary>The size of a huge page on x86-64, and the alignment a block needs to be made of them.</summary>
    internal const long Size = 2 << 20;

    /// <summary>TorchSharp's <c>THSTensor_new</c>: a tensor over memory of the caller's, with the deleter libtorch calls when its storage goes.</summary>
    static readonly delegate* unmanaged<void*, delegate* unmanaged<void*, void>, long*, int, sbyte, sbyte, int, int, byte, IntPtr> NewTensor =
        OperatingSystem.IsLinux()
            ? (delegate* unmanaged<void*, delegate* unmanaged<void*, void>, long*, int, sbyte, sbyte, int, int, byte, IntPtr>)TorchRuntime.NativeExport("THSTensor_new")
            : null;

    /// <summary>Each block's mapping (start and length, the alignment's slack included) by the address of its elements.</summary>
    static readonly ConcurrentDictionary<nint, (nint Start, nuint Length)> Blocks = new();

    /// <summary>Blocks some tensor's storage holds: tests check that a tensor's storage going lets go of its block.</summary>
    internal static int Live => Blocks.Count;

    /// <summary>A block whose storage has gone, still mapped: its elements' address, the mapping's start and length.</summary>
    readonly record struct ParkedBlock(nint At, nint Start, nuint Length)
    {
        /// <summary>The bytes its elements may take: the mapping less the alignment's slack.</summary>
        public nuint Used => Length - (nuint)Size;
    }

    /// <summary>How long a block no tensor holds waits for the next pass's outputs (zero: handed back at once). Tests shorten it.</summary>
    internal static TimeSpan Linger { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Blocks no tensor holds, kept for the next pass (<see cref="Linger"/>); guarded by <see cref="ParkGate"/>.</summary>
    static readonly List<ParkedBlock> Parked = [];
    static readonly Lock ParkGate = new();
    static readonly Timer UnparkTimer = new(_ => HandBackParked());

    /// <summary>Blocks parked: mapped, held by no tensor.</summary>
    internal static int ParkedCount
    {
        get
        {
            lock (ParkGate) return Parked.Count;
        }
    }

    /// <summary>
    /// The least bytes a tensor takes to be mapped here by default (a pass's kept outputs together, <see cref="Models.KeptOutputs"/>):
    /// eight huge pages (rounding up wastes at most a ninth). The logits have a threshold of their own (<see cref="LogitsMinBytes"/>).
    /// </summary>
    internal const long MinBytes = 8 * Size;

    /// <summary>
    /// The least bytes the logits take to be mapped here (a kept product's output, <see cref="Output"/>): 128 KB, so a
    /// decode step's, one sequence's of a 128,256-token vocabulary (256 KB in bf16) and up, take the block the step before
    /// left parked instead of a heap block. On the heap a step's logits found their hole again only while libtorch's argmax
    /// made and freed small blocks in between; with our own argmax (<see cref="Generation.GreedyChoice"/>) the next step's
    /// small blocks were carved out of it first, and the heap grew at every step: 1 MB a step with four sequences of the
    /// test fixture, 0.13 and 0.18 MB with one and two (glibc's arena over 30 steps; flat in blocks of their own). A block
    /// of its own costs at most one huge page's rounding, once.
    /// </summary>
    internal const long LogitsMinBytes = Size / 16;

    /// <summary>
    /// An uninitialised CPU tensor in huge pages of its own when it takes <paramref name="minBytes"/> or more and the system
    /// maps them (Linux, with TorchSharp's export); null otherwise (the caller takes libtorch's memory). Its elements start
    /// on a 2 MB boundary; the block goes back to the system when libtorch frees the storage (its last view disposed). Not
    /// for a pass's transient activations: the heap reuses their blocks without a fault, a new mapping zeroes its pages.
    /// </summary>
    public static Tensor? Empty(long[] shape, ScalarType dtype, long minBytes = MinBytes)
    {
        long elementSize = ElementSize(dtype);
        long bytes = shape.Aggregate(elementSize, (n, d) => checked(n * d));
        return elementSize > 0 && bytes >= minBytes && Map(bytes) is { } at ? Wrap(at, shape, dtype) : null;
    }

    /// <summary>Bytes an element of a floating-point <paramref name="dtype"/> takes; 0 for other types, which take libtorch's memory (outputs are floating point).</summary>
    internal static long ElementSize(ScalarType dtype) =>
        dtype switch { ScalarType.BFloat16 or ScalarType.Float16 => 2, ScalarType.Float32 => 4, ScalarType.Float64 => 8, _ => 0 };

    /// <summary>
    /// A product's output: in huge pages when it outlives the forward pass (<paramref name="kept"/>) and <see cref="Empty"/>
    /// takes it at <paramref name="minBytes"/> (<see cref="LogitsMinBytes"/> for the logits), otherwise libtorch's <c>empty</c>.
    /// </summary>
    public static Tensor Output(long[] shape, ScalarType dtype, Device device, bool kept, long minBytes = MinBytes) =>
        (kept && device.type == DeviceType.CPU ? Empty(shape, dtype, minBytes) : null) ?? empty(shape, dtype: dtype, device: device);

    /// <summary>Maps <paramref name="bytes"/> rounded up to whole huge pages, on a huge-page boundary; null where the system refuses.</summary>
    static nint? Map(long bytes)
    {
        if (NewTensor == null) return null;
        var used = (nuint)((bytes + Size - 1) / Size * Size);
        if (Unpark(used) is { } reused) return reused;
        // One huge page more than needed, to start on a boundary: the slack is address space only, never written.
        var length = used + (nuint)Size;
        if (SystemPages.Map(length, SystemPages.Read | SystemPages.Write) is not { } start) return null;
        nint at = (start + (nint)Size - 1) & ~((nint)Size - 1);
        // Refused where huge pages are off: the block is then faulted in 4 KB pages, as glibc's would be.
        Advise(at, (long)used);
        Blocks[at] = (start, length);
        return at;
    }

    /// <summary>
    /// Advises the whole huge pages inside <c>[address, address + bytes)</c> for 2 MB mappings (Linux; elsewhere nothing):
    /// the blocks above, and a checkpoint's memory-mapped weights. ext4 (Linux 6.18) reads a cold file as an advised
    /// mapping faults it into 2 MB folios mapped whole, but as an unadvised one faults it mostly into small ones (128-148
    /// of a 2,357 MiB checkpoint's MiB mapped 2 MB at a time), and a prefill's matrix products then miss the TLB at every
    /// 4 KB of weights: a 128-token prefill of Llama-3.2-1B's shapes keeping everything took 643-714 ms best of six
    /// unadvised against 639-666 advised (three cold-cache pairs; 694-696 against 598-599 in a first two), the refusal
    /// experiment's scoring on Llama-3.2-3B's shapes 22-24 s against 28-30 (AMD EPYC Zen 5 VM, alternating processes).
    /// The advice changes no byte and no memory use; a file the page cache already holds is mapped in the folios it has
    /// (one read with <c>read</c> lies in 2 MB folios, mapped whole either way).
    /// </summary>
    internal static void Advise(nint address, long bytes)
    {
        if (!OperatingSystem.IsLinux()) return;
        nint first = (address + (nint)Size - 1) & ~((nint)Size - 1), end = (address + (nint)bytes) & ~((nint)Size - 1);
        if (end > first) SystemPages.Advise(first, (nuint)(end - first), MadvHugepage);
    }

    static Tensor Wrap(nint at, long[] shape, ScalarType dtype)
    {
        IntPtr handle;
        fixed (long* sizes = shape)
            handle = NewTensor((void*)at, &Release, sizes, shape.Length, (sbyte)dtype, (sbyte)dtype, (int)DeviceType.CPU, 0, 0);
        if (handle != IntPtr.Zero) return Tensor.UnsafeCreateTensor(handle);
        Unmap(at);
        torch.CheckForErrors();
        throw new InvalidOperationException("libtorch made no tensor over the mapped block.");
    }

    /// <summary>
    /// The smallest parked block of at least <paramref name="used"/> bytes and at most a quarter more, taken out of the
    /// parking; null if there is none, and then the parked blocks are not what this work asks for (another prompt length,
    /// another model): they go back to the system before a new block is mapped, so they never add to its memory.
    /// </summary>
    static nint? Unpark(nuint used)
    {
        lock (ParkGate)
        {
            int best = -1;
            for (int i = 0; i < Parked.Count; i++)
                if (Parked[i].Used >= used && Parked[i].Used <= used + used / 4 && (best < 0 || Parked[i].Used < Parked[best].Used)) best = i;
            if (best < 0)
            {
                UnmapParkedLocked();
                return null;
            }
            var block = Parked[best];
            Parked.RemoveAt(best);
            Blocks[block.At] = (block.Start, block.Length);
            return block.At;
        }
    }

    /// <summary>libtorch's deleter of a block's storage, on whichever thread frees it: the block is parked, or unmapped when nothing lingers.</summary>
    [UnmanagedCallersOnly]
    static void Release(void* elements)
    {
        if (!Blocks.TryRemove((nint)elements, out var block)) return;
        if (Linger <= TimeSpan.Zero)
        {
            SystemPages.Unmap(block.Start, block.Length);
            return;
        }
        lock (ParkGate)
        {
            Parked.Add(new ParkedBlock((nint)elements, block.Start, block.Length));
            UnparkTimer.Change(Linger, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Hands every parked block back to the system (the timer, <see cref="Linger"/> after the last was parked).</summary>
    internal static void HandBackParked()
    {
        lock (ParkGate) UnmapParkedLocked();
    }

    static void UnmapParkedLocked()
    {
        foreach (var block in Parked) SystemPages.Unmap(block.Start, block.Length);
        Parked.Clear();
    }

    static void Unmap(nint elements)
    {
        if (Blocks.TryRemove(elements, out var block)) SystemPages.Unmap(block.Start, block.Length);
    }
}
