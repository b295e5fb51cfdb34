using NotebookLens.Models;
using NotebookLens.Tokenization;

namespace NotebookLens.Generation;

/// <summary>A prompt's continuation, as text and ids, and why it ended.</summary>
public sealed record GenerationOutput(ModelRef Model, Prompt Prompt, IReadOnlyList<int> NewIds, string Text, FinishReason FinishReason);

/// <summary>Generation from a <see cref="Prompt"/>: stops at the model's and the tokenizer's end tokens unless told otherwise.</summary>
public static class PromptGeneration
{
    /// <param name="cancel">Stops generation after the current token (the output says <see cref="FinishReason.Cancelled"/>).</param>
    public static GenerationOutput Generate(this TextModel model, Prompt prompt, GenerationOptions? options = null, CancellationToken cancel = default) =>
        model.GenerateBatch([prompt], options, cancel)[0];

    /// <summary>One continuation per prompt, computed together (left padding; each row gets what it would get alone).</summary>
    public static IReadOnlyList<GenerationOutput> GenerateBatch(this TextModel model, IReadOnlyList<Prompt> prompts, GenerationOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new GenerationOptions();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, options.Cancellation);
        var results = model.Model.GenerateBatch(prompts.Select(p => p.Ids).ToList(),
            options with { StopTokens = options.StopTokens ?? model.StopTokens.ToList(), Cancellation = linked.Token });
        return results.Select((r, i) => new GenerationOutput(model.Ref, prompts[i], r.NewIds, model.Decode(r.NewIds), r.FinishReason)).ToList();
    }
}
