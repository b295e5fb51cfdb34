using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens;

/// <summary>Architecture and parameters of a loaded model, as the lecture lists them, and how the process runs it (<see cref="LensModel.Engine"/>).</summary>
public sealed record ModelSummary(ModelRef Model, ModelConfig Config, long NumParameters, IReadOnlyList<ModelParameter> Parameters, string Engine);

/// <summary>
/// What a notebook user types against (as <c>HookedTransformer</c> in TransformerLens): a model with its tokenizer,
/// and every step of the lecture as one call — tokens, forward pass and activation cache, the logit lens, attention,
/// neighbours, similarity, generation, the refusal direction, Patchscope. Each analysis takes a <see cref="Tokenization.Prompt"/>
/// or a text (encoded as <c>tokenizer(text)</c>) and returns a plain record that says which model and which prompt it
/// came from. Tensors follow <see cref="Ownership"/>: they belong to the caller's dispose scope.
/// </summary>
public sealed class LensModel : TextModel, IDisposable
{
    readonly Dictionary<EmbeddingTable, EmbeddingSpace> _spaces = [];
    readonly List<string> _edits = [];
    readonly string _folder;
    bool _disposed;

    LensModel(LanguageModel model, HfTokenizer tokenizer, ModelRef reference, string folder) : base(model, tokenizer, reference) => _folder = folder;

    /// <summary>A model and tokenizer you loaded yourself, under <paramref name="name"/>.</summary>
    public LensModel(LanguageModel model, HfTokenizer tokenizer, string name = "model")
        : this(model, tokenizer, RefOf(model, name, model.Checkpoint.Folder), model.Checkpoint.Folder) { }

    /// <summary>The name it was loaded under (a registry key, and the notebook's C# variable).</summary>
    public string Name => Identity.Name;

    /// <summary>What it was loaded from: a folder, a hub id <c>org/name[@revision]</c>, or "tiny".</summary>
    public string Source => Identity.Source;

    /// <summary>The folder its files were read from (a hub id's snapshot in the Hugging Face cache).</summary>
    public string Folder => Usable(_folder);

    public ScalarType DType => Model.DType;

    public Device Device => Model.Device;

    /// <summary>Bytes of the loaded weights (memory-mapped stored-dtype weights count fully, though pages load on demand).</summary>
    public long MemoryBytes => Model.Weights.Values.Distinct().Sum(w => w.NumberOfElements * w.ElementSize);

    /// <summary>Edits of the weights in force now (see <see cref="WithOrthogonalizedWeights"/>); empty when the model is as loaded.</summary>
    public IReadOnlyList<string> Edits => Usable(_edits).ToList();

    // ---- loading ----

    /// <summary>Loads a model folder, a hub id (downloaded to the Hugging Face cache first if needed) or "tiny".</summary>
    /// <param name="name">Its name; default: derived from the source (<see cref="DefaultName"/>).</param>
    /// <param name="progress">Told how the download and the load go.</param>
    public static LensModel Load(string source, LoadOptions? options = null, string? name = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default) =>
        Task.Run(() => LoadAsync(source, options, name, progress, cancel), cancel).GetAwaiter().GetResult();

    /// <inheritdoc cref="Load"/>
    public static async Task<LensModel> LoadAsync(string source, LoadOptions? options = null, string? name = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default)
    {
        TorchRuntime.EnsureLoaded();
        options ??= LoadOptions.Default;
        var download = progress is null ? options.DownloadProgress : new DownloadAdapter(progress, options.DownloadProgress);
        var folder = await ModelLocator.ResolveAsync(source, ModelParts.All, options.Hub, download, cancel).ConfigureAwait(false);
        cancel.ThrowIfCancellationRequested();
        return await Task.Run(() =>
        {
            var loading = new ProgressCounter(progress, "load", 1, "models").Start(source);
            var tokenizer = HfTokenizer.Load(folder);
            var model = LanguageModel.Load(folder, options);
            loading.Step(source);
            return new LensModel(model, tokenizer, RefOf(model, name ?? DefaultName(source), source), folder);
        }, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// How the engine runs in this process, in words: how libtorch was loaded and prepared (<see cref="TorchRuntime.Status"/>:
    /// the OpenMP wait policy, the malloc threshold) and which bf16 and fp32 products NotebookLens's own kernels take on this CPU.
    /// </summary>
    public static string Engine
    {
        get
        {
            TorchRuntime.EnsureLoaded();
            return $"{TorchRuntime.Status}; {Bf16MatVec.Description}; {F32Gemm.Description}";
        }
    }

    /// <summary>A name usable as a C# identifier: "tiny", "Llama-3.2-3B-Instruct" → "llama_3_2_3b_instruct".</summary>
    public static string DefaultName(string source)
    {
        var last = source.TrimEnd('/', '\\').Split('/', '\\')[^1].Split('@')[0].ToLowerInvariant();
        var name = new string(last.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');
        return name.Length == 0 ? "model" : char.IsAsciiDigit(name[0]) ? "m" + name : name;
    }

    static ModelRef RefOf(LanguageModel model, string name, string source) =>
        new(name, source, model.Config.ModelType, DTypes.Name(model.DType), model.Device.ToString());

    // ---- the model itself ----

    public ModelSummary Summary() => new(Ref, Config, Model.NumParameters, Model.Parameters, Engine);

    public IReadOnlyList<ModelParameter> Parameters => Model.Parameters;

    /// <summary>A parameter by its Hugging Face name (e.g. <c>model.layers.27.mlp.up_proj.weight</c>), sharing the model's memory; caller's dispose scope.</summary>
    public Tensor Weight(string name) => Model.Parameter(name);

    /// <summary>Logits of residual vectors <c>[..., D]</c> through the final norm (optional), the LM head and any soft-cap; caller's dispose scope.</summary>
    public Tensor Unembed(Tensor resid, bool applyFinalNorm = true) => Model.Unembed(resid, applyFinalNorm);

    // ---- runs ----

    /// <summary>One forward pass; its tensors belong to the caller's dispose scope.</summary>
    public ForwardResult Forward(Prompt prompt, ForwardOptions? options = null) => ActivationCacheExtensions.Forward(Live, prompt, options);

    public ForwardResult Forward(string text, ForwardOptions? options = null) => Forward(Prompt(text), options);

    /// <summary>The forward pass and the activations <paramref name="options"/> select, by hook point name; caller's dispose scope.</summary>
    public (ForwardResult Result, ActivationCache Cache) RunWithCache(Prompt prompt, CacheOptions? options = null) =>
        ActivationCacheExtensions.RunWithCache(Live, prompt, options);

    public (ForwardResult Result, ActivationCache Cache) RunWithCache(string text, CacheOptions? options = null) => RunWithCache(Prompt(text), options);

    /// <summary>A continuation of the prompt (greedy unless the options sample), stopping at the model's end tokens.</summary>
    public GenerationOutput Generate(Prompt prompt, GenerationOptions? options = null, CancellationToken cancel = default) =>
        PromptGeneration.Generate(Live, prompt, options, cancel);

    /// <summary>A continuation of the text, or with <paramref name="chat"/> the reply to it as a user message.</summary>
    public GenerationOutput Generate(string text, GenerationOptions? options = null, bool chat = false, CancellationToken cancel = default) =>
        Generate(chat ? ChatPrompt(text) : Prompt(text), options, cancel);

    // ---- analyses ----

    /// <summary>The nearest vocabulary entries to a word or token by cosine similarity of embeddings.</summary>
    public NeighborsResult Neighbors(string word, int k = 10, EmbeddingTable table = EmbeddingTable.Input, CancellationToken cancel = default) =>
        Space(table).Neighbors(word, k, cancel);

    /// <summary>Embedding arithmetic, e.g. "冷 - cold + small"; the input tokens are left out of the answer.</summary>
    public NeighborsResult Arithmetic(string expression, int k = 10, EmbeddingTable table = EmbeddingTable.Input, CancellationToken cancel = default) =>
        Space(table).Evaluate(expression, k, cancel);

    /// <summary>The L + 1 hidden states: shapes, norms, previews.</summary>
    public HiddenStatesResult HiddenStates(Prompt prompt) => Inspection.HiddenStates.Run(Live, prompt);

    public HiddenStatesResult HiddenStates(string text) => HiddenStates(Prompt(text));

    /// <summary>How alike a word's hidden states are across sentences, layer by layer, raw and normalised.</summary>
    public SimilarityResult Similarity(string word, params string[] sentences) => ContextualSimilarity.Compare(Live, word, sentences);

    public SimilarityResult Similarity(IReadOnlyList<WordInContext> items) => ContextualSimilarity.Compare(Live, items);

    /// <summary>What each layer would predict (the logit lens).</summary>
    public LogitLensResult LogitLens(Prompt prompt, LogitLensOptions? options = null) => Inspection.LogitLens.Run(Live, prompt, options);

    public LogitLensResult LogitLens(string text, LogitLensOptions? options = null) => LogitLens(Prompt(text), options);

    /// <summary>Every layer's and head's attention map.</summary>
    public AttentionResult Attention(Prompt prompt) => AttentionMaps.Run(Live, prompt);

    public AttentionResult Attention(string text) => Attention(Prompt(text));

    /// <summary>The most active MLP neurons of a layer for a prompt.</summary>
    public NeuronsResult Neurons(Prompt prompt, int layer, int k = 10) => Inspection.Neurons.Top(Live, prompt, layer, k);

    public NeuronsResult Neurons(string text, int layer, int k = 10) => Neurons(Prompt(text), layer, k);

    /// <summary>Where one neuron fires most over several texts.</summary>
    public NeuronsResult NeuronTokens(int layer, int neuron, IEnumerable<string> texts, int k = 10) =>
        Inspection.Neurons.TopTokens(Live, texts.Select(t => Prompt(t)).ToList(), layer, neuron, k);

    /// <summary>A PCA of <c>hidden_states[layer]</c> of each text (at its last token, or at <paramref name="word"/>).</summary>
    public PcaResult Pca(int layer, IReadOnlyList<string> texts, string? word = null, int components = 2) =>
        Inspection.Pca.OfHiddenStates(Live, layer, texts, word, components);

    /// <summary>The next-token distribution at several temperatures.</summary>
    public TemperatureResult Temperatures(Prompt prompt, params double[] temperatures) => NextToken.AtTemperatures(Live, prompt, temperatures);

    public TemperatureResult Temperatures(string text, params double[] temperatures) => Temperatures(Prompt(text), temperatures);

    /// <summary>The refusal-direction experiment (Arditi et al.) on the embedded instruction sets, or on yours.</summary>
    public RefusalExperimentResult Refusal(RefusalExperimentOptions? options = null, IReadOnlyList<string>? harmful = null, IReadOnlyList<string>? harmless = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default) =>
        RefusalExperiment.Run(Live, harmful ?? InstructionSets.Harmful, harmless ?? InstructionSets.Harmless, options, progress, cancel);

    /// <summary>A Patchscope sweep: the source's representation at each layer (default: all) patched into the target prompt.</summary>
    public PatchscopeSweep Patchscope(PatchscopeSource source, IEnumerable<int>? layers = null, PatchscopeOptions? options = null,
        IProgress<LensProgress>? progress = null, CancellationToken cancel = default) =>
        Steering.Patchscope.Sweep(Live, source, layers ?? Enumerable.Range(0, Config.NumLayers), options, progress, cancel);

    // ---- weight edits ----

    /// <summary>
    /// Orthogonalises the weights that write to the residual stream to <paramref name="direction"/> until the returned
    /// handle is disposed (<c>using (lens.WithOrthogonalizedWeights(d)) { ... }</c>). While it is in force,
    /// <see cref="Edits"/> says so; one edit at a time.
    /// </summary>
    public IDisposable WithOrthogonalizedWeights(RefusalDirection direction)
    {
        ThrowIfUnusable();
        if (_edits.Count > 0)
            throw new LensException(LensErrorKind.Unsupported, $"The weights are already edited ({_edits[0]}).", "Dispose that edit first.");
        using var scope = NewDisposeScope();
        var edit = WeightOrthogonalization.Apply(Model, direction.ToTensor());
        var description = $"weights orthogonalised to the refusal direction of layer {direction.Layer}, position {direction.Position}";
        _edits.Add(description);
        return new EditHandle(() =>
        {
            edit.Dispose();
            _edits.Remove(description);
        });
    }

    /// <summary>Runs <paramref name="run"/> with the weights orthogonalised to <paramref name="direction"/>, then puts them back.</summary>
    public T WithOrthogonalizedWeights<T>(RefusalDirection direction, Func<LensModel, T> run)
    {
        using (WithOrthogonalizedWeights(direction)) return run(this);
    }

    sealed class EditHandle(Action undo) : IDisposable
    {
        Action? _undo = undo;

        public void Dispose()
        {
            _undo?.Invoke();
            _undo = null;
        }
    }

    EmbeddingSpace Space(EmbeddingTable table)
    {
        ThrowIfUnusable();
        if (!_spaces.TryGetValue(table, out var space)) _spaces[table] = space = new EmbeddingSpace(this, table);
        return space;
    }

    public override string ToString() => _disposed
        ? $"{Name}: unloaded (from {Source})"
        : $"{Name}: {Config.ModelType}, {Model.NumParameters:N0} parameters, {Ref.DType} on {Ref.Device} (from {Source})";

    /// <summary>
    /// Every public member but <see cref="Name"/>, <see cref="Source"/>, <see cref="ToString"/> and <see cref="Dispose"/>
    /// checks this first: a freed model (a notebook's variable after <c>#!model unload</c>) says so and how to get it
    /// back, instead of failing deep inside TorchSharp.
    /// </summary>
    private protected override void ThrowIfUnusable()
    {
        if (_disposed)
            throw new LensException(LensErrorKind.Unloaded, $"The model \"{Name}\" was unloaded: its weights are freed, so it can no longer be used.",
                $"Load it again: ModelRegistry.Shared.Load(\"{Source}\", \"{Name}\"), or in a notebook #!model load {Source} --name {Name}.", "model");
    }

    /// <summary>This model, checked usable: analyses get it as their first argument, so the check comes before theirs.</summary>
    LensModel Live => Usable(this);

    public void Dispose()
    {
        if (_disposed) return;
        foreach (var s in _spaces.Values) s.Dispose();
        _spaces.Clear();
        Model.Dispose();
        _disposed = true;
    }

    /// <summary>Hands a download's progress on as <see cref="LensProgress"/> (and to the hub-level observer, if any).</summary>
    sealed class DownloadAdapter(IProgress<LensProgress> progress, IProgress<DownloadProgress>? inner) : IProgress<DownloadProgress>
    {
        readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

        public void Report(DownloadProgress p)
        {
            inner?.Report(p);
            progress.Report(new LensProgress("download", p.BytesDone, p.BytesTotal, _clock.Elapsed, p.Remaining, "B",
                $"{p.RepoId}: {p.File} ({p.FileNumber}/{p.FileCount})", p.BytesPerSecond > 0 ? p.BytesPerSecond : null));
        }
    }
}
