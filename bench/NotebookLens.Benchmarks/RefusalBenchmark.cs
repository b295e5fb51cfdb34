using System.Diagnostics;
using NotebookLens;
using NotebookLens.Generation;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;

/// <summary>
/// The refusal experiment on Llama-3.2-3B shapes (random bf16 weights, Llama 3's tokenizer and chat template, the
/// embedded instructions). The default run is 20 minutes (an AMD EPYC Zen 4) to hours (AVX2 only) of arithmetic on two cores, so a reduced run (one
/// layer's candidates, one batch of training prompts, short completions) is timed stage by stage; each stage's rate
/// (FLOP/s, counted from the prompts' padded lengths) then prices the default run's stages. Its passes have the default
/// run's shapes (a full batch of training prompts, the validation and test sets of the default size), so the rates
/// carry over: with sets of 2, the scoring passes' fixed share (the prompts' shared prefix, a few rows that read all
/// the weights) made the estimate 1.7x too long (35.9 against 21.2 minutes, minutes apart on one machine). The floor
/// is the same arithmetic at libtorch's bf16 GEMM ceiling on this machine.
/// </summary>
static class RefusalBenchmark
{
    static readonly string[] Stages = [CandidateDirections.Stage, RefusalScorer.Stage, "score candidates", "generate"];

    /// <param name="full">Also runs the default experiment end to end (filters off, as the reduced run) and prints its stages beside the estimate.</param>
    public static int Run(string dir, bool full)
    {
        LoadBenchmark.EnsureCheckpoint(dir, CheckpointShapes.Llama3B);
        // What generating the checkpoint held is not the experiment's memory.
        File.WriteAllText("/proc/self/clear_refs", "5");
        TorchRuntime.EnsureLoaded();
        long fileBytes = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        var tokenizer = FixtureTokenizer.Llama3();
        var clock = Stopwatch.StartNew();
        using var lens = new LensModel(LanguageModel.Load(dir), tokenizer);
        double load = clock.Elapsed.TotalSeconds;
        var c = lens.Config;
        double gemm = DecodeBenchmark.GemmCeiling(lens.Model);
        Console.WriteLine($"{CheckpointShapes.Llama3B.Name} shapes, random bf16 weights ({dir}, {fileBytes / 1e9:F2} GB), loaded in {load:F1} s; Llama 3's chat template; the embedded instructions");
        Console.WriteLine($"libtorch's bf16 GEMM ceiling on the MLP's shapes: {gemm / 1e9:F1} GF/s");

        var defaults = new RefusalExperimentOptions();
        var reduced = new RefusalExperimentOptions
        {
            TrainCount = defaults.BatchSize, MaxNewTokens = 8, Layer = c.NumLayers / 2,
            // Random weights refuse nothing: with the filters on, no candidate would be chosen and nothing generated.
            Thresholds = new SelectionThresholds { MaxKlDivergence = null, MinSteeringScore = null },
        };
        var finished = new Dictionary<string, TimeSpan>();
        var progress = new StageClock(p => { if (p.Finished) finished[p.Stage] = p.Elapsed; });
        clock.Restart();
        lens.Refusal(reduced, progress: progress);
        double total = clock.Elapsed.TotalSeconds;

        var measuredWork = Work.Of(lens, reduced);
        var defaultWork = Work.Of(lens, defaults);
        Console.WriteLine($"reduced run: {reduced.TrainCount}/{reduced.ValidationCount}/{reduced.TestCount} instructions of each kind (train/validation/test), layer {reduced.Layer}'s {measuredWork.Candidates} candidates, {reduced.MaxNewTokens} new tokens: {total:F0} s");
        Console.WriteLine($"default run: {defaults.TrainCount}/{defaults.ValidationCount}/{defaults.TestCount}, every layer's candidates ({defaultWork.Candidates}, of which {defaultWork.ScoredCandidates} need passes: layer 0's are zero), {defaults.MaxNewTokens} new tokens");
        Console.WriteLine($"{"stage",-18} {"measured s",11} {"TFLOP",7} {"GF/s",6} {"of GEMM",8} | {"default TFLOP",14} {"estimate",10} {"at GEMM",10}");
        double estimate = 0, floor = 0;
        var guesses = new Dictionary<string, double>();
        foreach (var stage in Stages)
        {
            double seconds = finished[stage].TotalSeconds, flops = measuredWork.Flops[stage], rate = flops / seconds;
            double planned = defaultWork.Flops[stage], guess = guesses[stage] = planned / rate, best = planned / gemm;
            estimate += guess;
            floor += best;
            Console.WriteLine($"{stage,-18} {seconds,11:F1} {flops / 1e12,7:F2} {rate / 1e9,6:F1} {rate / gemm,8:P0} | {planned / 1e12,14:F1} {Hours(guess),10} {Hours(best),10}");
        }
        Console.WriteLine($"{"default run",-18} {"",11} {"",7} {"",6} {"",8} | {Stages.Sum(s => defaultWork.Flops[s]) / 1e12,14:F1} {Hours(estimate),10} {Hours(floor),10}");
        double scoring = defaultWork.Flops["score candidates"];
        Console.WriteLine($"scoring without steering from the candidate's layer: {defaultWork.SteeringSaved / 1e12:F0} TFLOP more ({defaultWork.SteeringSaved / (scoring + defaultWork.SteeringSaved):P0} of it saved); "
            + $"without running the shared prompt prefix once: {defaultWork.PrefixSaved / 1e12:F0} TFLOP more ({defaultWork.PrefixSaved / (scoring + defaultWork.PrefixSaved):P0} saved)");
        // Llama 3.1's and 3.2's own template opens every conversation with this system block; the fixture's has none.
        var dated = Work.Of(lens, defaults with { SystemPrompt = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024" });
        double datedScoring = dated.Flops["score candidates"];
        Console.WriteLine($"with Llama 3.2's system block in every prompt (as its own template writes it): scoring {datedScoring / 1e12:F0} TFLOP, "
            + $"{dated.PrefixSaved / 1e12:F0} TFLOP more without the shared prefix ({dated.PrefixSaved / (datedScoring + dated.PrefixSaved):P0} saved); "
            + $"the default run at this machine's scoring rate: {Hours(Stages.Sum(st => dated.Flops[st]) / (measuredWork.Flops["score candidates"] / finished["score candidates"].TotalSeconds))}");
        Console.WriteLine($"generation is priced at the reduced run's rate with {reduced.MaxNewTokens} new tokens, of which the prefill is a larger share than with {defaults.MaxNewTokens}: decode steps run below the prefill's rate, so its estimate is a lower bound");
        // The default run's time: the estimate, or with --full the run itself.
        double defaultRun = estimate;
        string time = $"{Hours(estimate)} estimated from the reduced run's {total:F0} s";
        if (full)
        {
            finished.Clear();
            clock.Restart();
            lens.Refusal(defaults with { Thresholds = reduced.Thresholds }, progress: progress);
            defaultRun = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"default run end to end (filters off, as the reduced run): {Hours(defaultRun)}; "
                + string.Join(", ", Stages.Select(st => $"{st} {Hours(finished[st].TotalSeconds)} (estimated {Hours(guesses[st])})")));
            time = $"{Hours(defaultRun)} end to end ({Hours(estimate)} estimated)";
        }
        long peak = LoadBenchmark.Status("VmHWM");
        double ofFile = (double)peak / fileBytes;
        Console.WriteLine($"peak RSS during the experiment: {peak / 1e9:F2} GB = {ofFile:F2}x the checkpoint file");
        Console.WriteLine("goals (issue #15):");
        Goals.Note("the refusal experiment with default settings, Llama-3.2-3B shapes", $"{time}, {Hours(floor)} at the GEMM ceiling: {defaultRun / floor:F1}x the arithmetic");
        Goals.Report("peak RSS during the refusal experiment <= 1.1x the checkpoint", ofFile <= 1.1, $"{ofFile:F2}x");
        return 0;
    }

    static string Hours(double seconds) => seconds >= 3600 ? $"{seconds / 3600:F1} h" : $"{seconds / 60:F1} min";

    /// <summary>Reports on the experiment's thread (System.Progress would post to the thread pool and lose the order).</summary>
    sealed class StageClock(Action<LensProgress> report) : IProgress<LensProgress>
    {
        public void Report(LensProgress value) => report(value);
    }

    /// <summary>
    /// The arithmetic of one experiment, per stage: each pass as NotebookLens runs it (the tokens every prompt starts
    /// with once, then left-padded batches of BatchSize of the rest, logits at the last position only, the steering
    /// pass from the candidate's layer, completions decoded with the KV cache).
    /// </summary>
    sealed record Work(IReadOnlyDictionary<string, double> Flops, int Candidates, int ScoredCandidates, double SteeringSaved, double PrefixSaved)
    {
        public static Work Of(LensModel lens, RefusalExperimentOptions o)
        {
            var c = lens.Config;
            var prompts = new InstructionPrompts(lens.Tokenizer, o.SystemPrompt);
            int positions = prompts.PostInstructionCount;
            List<IReadOnlyList<int>> Ids(IReadOnlyList<string> set, int skip, int take) => set.Skip(skip).Take(take).Select(prompts.Ids).ToList();
            // One pass over a prompt set from a layer: the shared prefix (keeping `keep` tokens of each prompt) once, then the rests.
            double Passes(List<IReadOnlyList<int>> set, int fromLayer, int keep = 1, bool sharePrefix = true)
            {
                int shared = sharePrefix ? PromptBatch.SharedPrefix(set, keep) : 0;
                double prefix = shared == 0 ? 0 : FlopCount.Pass(c, 1, shared, 0, logitPositions: 1);
                return prefix + set.Chunk(o.BatchSize).Sum(batch => FlopCount.Pass(c, batch.Length, batch.Max(p => p.Count) - shared, fromLayer, 1, shared));
            }
            var harmful = InstructionSets.Harmful;
            var harmless = InstructionSets.Harmless;
            int v = o.TrainCount, t = o.TrainCount + o.ValidationCount;
            var (harmfulVal, harmlessVal) = (Ids(harmful, v, o.ValidationCount), Ids(harmless, v, o.ValidationCount));
            var layers = o.Layer is int only ? [only] : Enumerable.Range(0, c.NumLayers).ToList();
            // Layer 0's candidates are zero vectors (the same template tokens in every prompt): scored without a pass.
            var scored = layers.Where(l => l > 0).ToList();
            // Per candidate: both sets in one pass with the direction ablated, then the harmless ones steered.
            List<IReadOnlyList<int>> bothVal = [.. harmfulVal, .. harmlessVal];
            double Scoring(bool sharePrefix, bool fromLayer) => positions * scored.Sum(l =>
                Passes(bothVal, 0, sharePrefix: sharePrefix) + Passes(harmlessVal, fromLayer ? l : 0, sharePrefix: sharePrefix));
            double scoring = Scoring(true, true);
            double generation = 2 * (Generation(c, Ids(harmful, t, o.TestCount), o) + Generation(c, Ids(harmless, t, o.TestCount), o));
            var flops = new Dictionary<string, double>
            {
                [CandidateDirections.Stage] = Passes(Ids(harmful, 0, o.TrainCount), 0, keep: positions) + Passes(Ids(harmless, 0, o.TrainCount), 0, keep: positions),
                [RefusalScorer.Stage] = Passes(harmfulVal, 0) + Passes(harmlessVal, 0),
                ["score candidates"] = scoring,
                ["generate"] = generation,
            };
            return new Work(flops, positions * layers.Count, positions * scored.Count, Scoring(true, false) - scoring, Scoring(false, true) - scoring);
        }

        /// <summary>Greedy completions of one condition: each batch's prefill, then one cached step per new token after the first.</summary>
        static double Generation(ModelConfig c, List<IReadOnlyList<int>> set, RefusalExperimentOptions o) => set.Chunk(o.BatchSize).Sum(batch =>
        {
            int prompt = batch.Max(p => p.Count);
            double steps = Enumerable.Range(1, o.MaxNewTokens - 1).Sum(step => FlopCount.Step(c, batch.Length, prompt + step));
            return FlopCount.Pass(c, batch.Length, prompt, 0, logitPositions: 1) + steps;
        });
    }
}
