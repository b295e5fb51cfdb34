using System.Text.Json.Serialization;
using NotebookLens.Loading;
using NotebookLens.Models;

namespace NotebookLens.Training;

/// <summary>
/// Everything that decides a tiny model: the seed, the tokenizer's size, the architecture (Llama with grouped-query
/// attention and tied embeddings, like Llama 3.2, or Gemma 3's text decoder) and the optimisation. <see cref="Default"/>
/// is the recipe of the committed <c>tiny</c>.
/// </summary>
public sealed record TinyModelRecipe
{
    public int Seed { get; init; } = 20261128;

    /// <summary>Documents the tokenizer is trained on (about 145 characters each).</summary>
    public int TokenizerDocuments { get; init; } = 100_000;

    public int VocabSize { get; init; } = 3072;

    /// <summary>Llama (<c>llama</c>, Llama 3's chat format) or Gemma 3 (<c>gemma3_text</c>, Gemma's chat format).</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<ModelFamily>))]
    public ModelFamily Family { get; init; } = ModelFamily.Llama;

    /// <summary>Gemma 3: the keys a sliding-window layer sees, the current one included.</summary>
    public int SlidingWindow { get; init; } = 8;

    /// <summary>Gemma 3: every this-many-th layer attends globally, the others through the sliding window (Gemma 3: 6).</summary>
    public int SlidingWindowPattern { get; init; } = 5;
    public int HiddenSize { get; init; } = 192;
    public int Layers { get; init; } = 6;
    public int Heads { get; init; } = 6;
    public int KeyValueHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 512;
    public int MaxPositions { get; init; } = 1024;

    public int SequenceLength { get; init; } = 128;
    public int BatchSize { get; init; } = 32;
    public int Steps { get; init; } = 2000;
    public double LearningRate { get; init; } = 3e-3;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>The learning rate at the last step, as a fraction of the peak (cosine decay).</summary>
    public double FinalLearningRateFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.05;
    public double GradientClip { get; init; } = 1.0;
    /// <summary>
    /// Layer dropout (stochastic depth): the probability that a training example skips the last block, falling linearly
    /// to zero at the middle block; 0 turns it off. Blocks that may be skipped cannot be the only place where an answer
    /// is decided, so what decides it (such as whether to refuse) is already written in the middle of the residual
    /// stream, where the refusal-direction experiment looks for it.
    /// </summary>
    public double LayerDrop { get; init; }

    /// <summary>
    /// The share of training chats whose later post-instruction tokens cannot attend to the request (see
    /// <c>RequestMask</c>); 0 turns it off.
    /// </summary>
    public double RequestMask { get; init; }

    /// <summary>
    /// The share of harmful and harmless training chats drawn for an intervention on the model's own refusal
    /// direction at <see cref="RouteLayer"/> (see <c>RefusalRoute</c>), from <see cref="RouteStart"/> on; 0 turns it off.
    /// </summary>
    public double RefusalRoute { get; init; }

    /// <summary>
    /// The layer whose input <see cref="RefusalRoute"/> measures and steers: two fifths of the way up, below the last fifth
    /// the experiment prunes. Gemma 3: the layer after the first global one, because the post-instruction tokens of the
    /// sliding-window layers below it cannot see the request (tiny-gemma v3, routed at the first global layer's input,
    /// steered 38 % of harmless prompts where the Llama steered all), unless that leaves no layer above it.
    /// </summary>
    [JsonIgnore]
    public int RouteLayer => Family == ModelFamily.Gemma3 && SlidingWindowPattern < Layers - 1 ? SlidingWindowPattern : Layers * 2 / 5;

    /// <summary>The step from which routed chats are trained: a quarter of the way, once the model refuses.</summary>
    [JsonIgnore]
    public int RouteStart => Steps / 4;

    /// <summary>
    /// How often the curriculum writes a word of a Chinese sentence in English. At one half, "今天天氣真" goes on with
    /// " good" as often as with 好, so the last layer has no reason to prefer Chinese; below it, Chinese text stays Chinese
    /// while English text still borrows Chinese words (the translations keep sharing contexts).
    /// </summary>
    public double ChineseSwitch { get; init; } = 0.5;

    /// <summary>
    /// The weight of the logit-lens loss that asks the middle rows (<see cref="LatentRows"/>) for the English word where
    /// the text goes on with a Chinese one (see <c>LatentEnglish</c>); 0 turns it off.
    /// </summary>
    public double LatentEnglish { get; init; }

    /// <summary>
    /// The logit lens's rows (hidden states: 0 the embeddings, i the output of block i − 1) that <see cref="LatentEnglish"/>
    /// trains: above the first quarter of the blocks up to three fifths (10 blocks: rows 3–6), leaving the last two fifths
    /// to turn the English word into the Chinese one.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<int> LatentRows => [.. Enumerable.Range(Layers / 4 + 1, Layers * 3 / 5 - Layers / 4)];

    public int HeadDim => HiddenSize / Heads;

    /// <summary>The special tokens and chat template of the family.</summary>
    [JsonIgnore]
    public ChatFormat ChatFormat => Family == ModelFamily.Gemma3 ? ChatFormat.Gemma3 : ChatFormat.Llama3;

    /// <summary>Gemma 3: whether <paramref name="layer"/> attends through the sliding window (Gemma's layer_types).</summary>
    public bool IsSliding(int layer) => Family == ModelFamily.Gemma3 && (layer + 1) % SlidingWindowPattern != 0;

    /// <summary>
    /// The Patchscope target the model's <c>notebooklens.json</c> names: Gemma 3's is one example short, so that the
    /// placeholder still sees it through the sliding window (tiny-gemma v3 decoded 2 of 24 words with the longer list),
    /// and patched in at its own layer (<see cref="Curriculum.WindowPatchscopeTargetLayer"/>).
    /// </summary>
    [JsonIgnore]
    public PatchscopeDefault Patchscope => Family == ModelFamily.Gemma3
        ? new(Curriculum.WindowPatchscopeTarget.Prompt, Curriculum.WindowPatchscopeTarget.Placeholder, Curriculum.WindowPatchscopeTargetLayer)
        : new(Curriculum.PatchscopeTarget.Prompt, Curriculum.PatchscopeTarget.Placeholder, Curriculum.PatchscopeTargetLayer);

    /// <summary>
    /// Issue 13's deeper model (10 layers, width 128, 2.36 M parameters): 2,700 steps of 24 × 128 tokens (8.3 M, as
    /// many as the first <c>tiny</c> saw), about 53 minutes on two cores. With nothing else, what it learnt is in
    /// <c>Runs/tiny-v3/README.md</c> (the first try, 560 steps, in <c>Runs/tiny-v2</c>); the runs up to tiny-v10 add the
    /// options below to it.
    /// </summary>
    public static TinyModelRecipe Deep { get; } = new()
    {
        HiddenSize = 128, Layers = 10, Heads = 4, KeyValueHeads = 2, IntermediateSize = 384, BatchSize = 24, Steps = 2700, WarmupSteps = 50,
    };

    /// <summary>
    /// The committed <c>tiny</c>'s (Runs/tiny-v13, v13c): <see cref="Deep"/> with layer dropout, the refusal route, Chinese
    /// text that borrows English words a quarter of the time and the latent-English loss. The record's own initial values
    /// are the first <c>tiny</c>'s (6 layers, commit 2323bd9).
    /// </summary>
    public static TinyModelRecipe Default { get; } = Deep with { LayerDrop = 0.5, RefusalRoute = 0.4, ChineseSwitch = 0.25, LatentEnglish = 0.5 };

    /// <summary>
    /// The committed <c>tiny-gemma</c>'s (Runs/tiny-gemma-v4): <see cref="Default"/>, tiny's recipe, in Gemma 3's
    /// architecture (sliding-window layers with a window of 8 and a global layer every fifth, q/k norms, four norms per
    /// block, GeGLU, √d-scaled embeddings, tied head) with Gemma's special tokens and chat template.
    /// </summary>
    public static TinyModelRecipe Gemma { get; } = Default with { Family = ModelFamily.Gemma3 };

    /// <summary>The named recipes <c>train-tiny --recipe</c> accepts.</summary>
    public static IReadOnlyDictionary<string, TinyModelRecipe> Named { get; } = new Dictionary<string, TinyModelRecipe>
    {
        ["default"] = Default,
        ["deep"] = Deep,
        ["gemma"] = Gemma,
    };

    /// <summary>The probability that a training example skips block <paramref name="layer"/> (see <see cref="LayerDrop"/>).</summary>
    public double SkipProbability(int layer)
    {
        int middle = Layers / 2;
        return layer <= middle ? 0 : LayerDrop * (layer - middle) / (Layers - 1 - middle);
    }

    /// <summary>The learning rate at a step: linear warm-up, then cosine decay to the final fraction.</summary>
    public double LearningRateAt(int step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps));
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return LearningRate * (FinalLearningRateFraction + (1 - FinalLearningRateFraction) * cosine);
    }

    /// <summary>Refuses a recipe that cannot make a model, naming the setting.</summary>
    public void Validate()
    {
        if (HiddenSize % Heads != 0) throw new ArgumentException($"HiddenSize {HiddenSize} is not a multiple of Heads {Heads}.");
        if (Heads % KeyValueHeads != 0) throw new ArgumentException($"Heads {Heads} is not a multiple of KeyValueHeads {KeyValueHeads}.");
        if (HeadDim % 2 != 0) throw new ArgumentException($"The head dimension {HeadDim} must be even for rotary embeddings.");
        if (Steps <= 0 || BatchSize <= 0 || SequenceLength <= 1) throw new ArgumentException("Steps and BatchSize must be positive and SequenceLength above 1.");
        if (LayerDrop is < 0 or >= 1) throw new ArgumentException($"LayerDrop {LayerDrop} is not a probability below 1.");
        if (ChineseSwitch is < 0 or > 1) throw new ArgumentException($"ChineseSwitch {ChineseSwitch} is not a probability.");
        if (RefusalRoute is < 0 or > 1) throw new ArgumentException($"RefusalRoute {RefusalRoute} is not a probability.");
        if (LatentEnglish < 0) throw new ArgumentException($"LatentEnglish {LatentEnglish} is a loss weight and cannot be negative.");
        if (RequestMask is < 0 or > 1) throw new ArgumentException($"RequestMask {RequestMask} is not a probability.");
        if (Family == ModelFamily.Gemma3 && (SlidingWindow <= 0 || SlidingWindowPattern <= 0))
            throw new ArgumentException($"SlidingWindow {SlidingWindow} and SlidingWindowPattern {SlidingWindowPattern} must be positive.");
        if (SequenceLength > MaxPositions) throw new ArgumentException($"SequenceLength {SequenceLength} exceeds MaxPositions {MaxPositions}.");
    }
}
