using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Generation;

/// <summary>How to generate: length, decoding strategy, when to stop, and what to watch or change on the way.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>0 (the default) is greedy decoding; above 0 samples from softmax(logits / temperature).</summary>
    public double Temperature { get; init; }
    /// <summary>Sample only among the k most likely tokens; 0 turns it off.</summary>
    public int TopK { get; init; }
    /// <summary>Sample only among the most likely tokens whose probabilities add up to p (nucleus); 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Seed of the sampler; each prompt of a batch samples with its own generator seeded with it.</summary>
    public int Seed { get; init; }
    /// <summary>Ids that end a sequence (kept as its last token). Null: the model's end ids (config and generation_config).</summary>
    public IReadOnlyCollection<int>? StopTokens { get; init; }
    /// <summary>
    /// Interventions or probes to run at every step (see <see cref="Steering.Interventions"/>). They see the prompt in
    /// chunks of positions when it is long or the batch large (<see cref="ChunkedPrefill"/>), then one position per new
    /// token; <see cref="HookContext.PositionOffset"/> says where each starts.
    /// </summary>
    public HookSet? Hooks { get; init; }
    /// <summary>Called for every new token, as it is chosen (streaming).</summary>
    public Action<GeneratedToken>? OnToken { get; init; }
    public CancellationToken Cancellation { get; init; }
    /// <summary>The token that fills finished rows and left padding in a batch; null: the model's pad id, or 0.</summary>
    public int? PadTokenId { get; init; }

    public static GenerationOptions Greedy(int maxNewTokens) => new() { MaxNewTokens = maxNewTokens };
}

/// <summary>One generated token: which prompt of the batch, which step, which id.</summary>
public sealed record GeneratedToken(int Sequence, int Step, int Id);

/// <summary>Why a sequence ended.</summary>
public enum FinishReason
{
    /// <summary>It produced a stop token.</summary>
    Stop,
    /// <summary>It reached MaxNewTokens.</summary>
    Length,
    /// <summary>The cancellation token fired.</summary>
    Cancelled,
    /// <summary>It filled the model's context (max_position_embeddings) before MaxNewTokens.</summary>
    ContextFull,
}

/// <summary>A prompt's continuation.</summary>
public sealed record GenerationResult(IReadOnlyList<int> PromptIds, IReadOnlyList<int> NewIds, FinishReason FinishReason);

/// <summary>Autoregressive generation with a KV cache, greedy or sampled, single or batched (left padding).</summary>
public static class TextGeneration
{
    public static GenerationResult Generate(this LanguageModel model, IReadOnlyList<int> prompt, GenerationOptions? options = null) =>
        model.GenerateBatch([prompt], options)[0];

    /// <summary>
    /// Generates a continuation for every prompt at once. Prompts of different lengths are left-padded and
    /// masked, with positions counted over real tokens only, so each row gets what it would get alone.
    /// The prompts enter the cache in chunks of positions (see <see cref="ChunkedPrefill"/>).
    /// </summary>
    public static IReadOnlyList<GenerationResult> GenerateBatch(this LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions? options = null) =>
        model.GenerateBatch(prompts, options, ChunkedPrefill.Rows);

    /// <summary><see cref="GenerateBatch(LanguageModel, IReadOnlyList{IReadOnlyList{int}}, GenerationOptions?)"/> with prefill chunks of at most <paramref name="prefillRows"/> token rows.</summary>
    internal static IReadOnlyList<GenerationResult> GenerateBatch(this LanguageModel model, IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions? options, int prefillRows)
    {
        options ??= new GenerationOptions();
        if (prompts.Count == 0) return [];
        if (options.MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxNewTokens cannot be negative.");
        if (options.Temperature < 0 || options.TopP is <= 0 or > 1 || options.TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "Temperature must be ≥ 0, TopK ≥ 0 and TopP in (0, 1].");
        var stop = (options.StopTokens ?? model.StopTokenIds).ToHashSet();
        int pad = options.PadTokenId ?? model.Config.PadTokenId ?? 0;
        int batch = prompts.Count, longest = prompts.Max(p => p.Count);

        var newIds = prompts.Select(_ => new List<int>()).ToArray();
        var finish = new FinishReason?[batch];
        var samplers = prompts.Select(_ => new Sampler(options)).ToArray();
        // A model cannot attend past its context: generation ends there (a prompt that alone is too long is refused by Forward).
        int steps = Math.Min(options.MaxNewTokens, Math.Max(1, model.Config.MaxPositions - longest + 1));
        using var cache = new KvCache(model.Config.NumLayers, longest + steps);
        var (input, mask) = PromptBatch.LeftPad(prompts, pad);
        var forward = new ForwardOptions { LastPositionLogitsOnly = true, Hooks = options.Hooks };
        IDisposable? decodeHeap = null;
        try
        {
            for (int step = 0; step < steps; step++)
            {
                if (options.Cancellation.IsCancellationRequested)
                {
                    for (int r = 0; r < batch; r++) finish[r] ??= FinishReason.Cancelled;
                    break;
                }
                long[] next;
                using (var scope = NewDisposeScope())
                {
                    using var result = step == 0 ? ChunkedPrefill.Run(model, input, mask, forward, cache, prefillRows)
                        : model.Forward(input, forward with { PaddingMask = mask }, cache);
                    // In the model's dtype: greedy decoding takes the argmax as it is (the same as in fp32: widening is exact
                    // and keeps the order); a sampler widens its row. A [B, vocab] fp32 copy a step is a block of its own
                    // (4 MB for eight sequences of Llama 3's vocabulary: 1,024 page faults a step).
                    var logits = result.Logits.select(1, 0);
                    // Greedy: every row's argmax (GreedyChoice: libtorch's bf16 argmax took 2-4 ms for eight rows).
                    long[]? greedy = options.Temperature == 0 ? GreedyChoice.Argmax(logits) : null;
                    next = new long[batch];
                    for (int r = 0; r < batch; r++)
                    {
                        if (finish[r] is not null)
                        {
                            next[r] = pad;
                            continue;
                        }
                        int id = greedy is not null ? (int)greedy[r] : samplers[r].Next(logits[r]);
                        next[r] = id;
                        newIds[r].Add(id);
                        options.OnToken?.Invoke(new GeneratedToken(r, step, id));
                        if (stop.Contains(id)) finish[r] = FinishReason.Stop;
                    }
                }
                input.Dispose();
                mask.Dispose();
                if (finish.All(f => f is not null)) break;
                input = tensor(next, device: model.Device).view(batch, 1);
                mask = ones([batch, 1], dtype: ScalarType.Bool, device: model.Device);
                // The decode steps reuse each other's blocks (the logits, the products' outputs) instead of mapping them
                // anew: each step's pass would otherwise hand them back at its end. Opened after the prefill, whose
                // blocks are the largest, so its peak is what it was.
                decodeHeap ??= NativeHeap.ReuseBlocks();
            }
        }
        finally
        {
            decodeHeap?.Dispose();
        }
        input.Dispose();
        mask.Dispose();
        return Enumerable.Range(0, batch)
            .Select(r => new GenerationResult(prompts[r], newIds[r], finish[r] ?? (steps < options.MaxNewTokens ? FinishReason.ContextFull : FinishReason.Length)))
            .ToList();
    }

    /// <summary>Chooses the next token from one row of logits: a seeded sample after temperature, top-k and top-p.</summary>
    sealed class Sampler(GenerationOptions options)
    {
        readonly Random _random = new(options.Seed);

        public int Next(Tensor logits)
        {
            using var scope = NewDisposeScope();
            var scaled = logits.to(ScalarType.Float32) / Scalars.Of(options.Temperature);
            if (options.TopK > 0 && options.TopK < scaled.shape[0])
            {
                var kth = scaled.topk(options.TopK).values[-1];
                scaled = scaled.masked_fill(scaled < kth, Scalars.Of(double.NegativeInfinity));
            }
            var (sorted, order) = scaled.softmax(0).sort(descending: true);
            var probs = sorted.ToHostArray<float>();
            int keep = probs.Length;
            if (options.TopP < 1)
            {
                double sum = 0;
                for (int i = 0; i < probs.Length; i++)
                {
                    sum += probs[i];
                    if (sum >= options.TopP)
                    {
                        keep = i + 1;
                        break;
                    }
                }
            }
            double total = 0;
            for (int i = 0; i < keep; i++) total += probs[i];
            double u = _random.NextDouble() * total, acc = 0;
            int choice = keep - 1;
            for (int i = 0; i < keep; i++)
            {
                acc += probs[i];
                if (u < acc)
                {
                    choice = i;
                    break;
                }
            }
            return (int)order[choice].item<long>();
        }
    }
}
