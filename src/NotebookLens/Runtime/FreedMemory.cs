namespace NotebookLens.Runtime;

/// <summary>
/// How long memory a forward pass frees stays with the process for the next pass before it goes back to the system:
/// the heap's free pages (<see cref="NativeHeap.ReuseBlocks"/>) and the huge-page blocks of kept outputs
/// (<see cref="HugePages"/>). Memory handed back is faulted in again page by page when the next pass writes it, and a
/// fault is not cheap: 13.5 µs per 4 KB page on the AMD EPYC VM the benchmarks run on, where a 128-token prefill of
/// Llama-3.2-1B's shapes keeping everything re-faulted 4,000-4,300 heap pages after a hand-back and 370-680 without
/// (alternating, the pass without won 11 and 8 of 12 pairs, best 650 against 679 ms and 662 against 731), and copied its
/// kept outputs in 5 ms instead of 45 and wrote its logits in 128 instead of 157 ms into huge pages written before. Passes
/// run back to back (a loop in a cell, a batch of prompts, the refusal experiment, a benchmark) keep their memory; a
/// notebook that goes idle gets it back within <see cref="Linger"/>.
/// </summary>
internal static class FreedMemory
{
    /// <summary>The time freed memory waits for a pass to reuse it (zero: handed back at once). Tests shorten it.</summary>
    internal static TimeSpan Linger { get; set; } = TimeSpan.FromSeconds(2);
}
