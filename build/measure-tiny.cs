#:project ../src/NotebookLens.Training/NotebookLens.Training.csproj
// Prints the lecture's phenomena measured on a tiny-model folder (or "tiny"): dotnet run build/measure-tiny.cs -- DIR [all|emb|lens|apple|attn|patch|refusal|steer]
// ("patch [TARGET [LAYER|same]]" tries another Patchscope target prompt, its placeholder "x", patched at LAYER of the target, or at the source's;
// "steer [POSITION]" compares a post-instruction position's refusal directions with the last position's;
// "kl LAYER" shows where the refusal experiment's KL filter comes from: the first answer token of each harmless validation
// prompt, plain and with the last position's candidate of LAYER ablated;
// "harmless" lists the embedded harmless instructions by the probability of "I", the refusal token, as the first answer token).
// The numbers of the model cards and of src/NotebookLens.Training/Runs come from it; the tests hold the committed model to them.
using NotebookLens;
using NotebookLens.Generation;
using NotebookLens.Inspection;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;

TorchRuntime.EnsureLoaded();
var what = args.Length > 1 ? args[1] : "all";
using var lens = LensModel.Load(args[0]);
var tok = lens.Tokenizer;
int L = lens.Config.NumLayers;
Console.WriteLine($"layers {L} hidden {lens.Config.HiddenSize}");
string J(IEnumerable<string> xs) => string.Join(" | ", xs);

if (what is "all" or "emb")
{
    using var space = new EmbeddingSpace(lens);
    foreach (var w in new[] { "李", "王", " apple", "Apple", " Apple", " cold", " Lee", " king" })
        Console.WriteLine($"{w}: tokens {tok.Encode(w, addSpecialTokens: false).Count}; nn {J(space.Nearest(w, 10).Select(n => $"{n.Text}:{n.Similarity:F2}"))}");
    var pairs = Lexicon.Concepts.Where(c => c.Kind != "verb").ToList();
    int hits = pairs.Count(c =>
    {
        var t = tok.Encode(c.Chinese, addSpecialTokens: false);
        return t.Count == 1 && space.NearestIds(space.VectorOf(" " + c.English), k: 11).Any(n => n.Id == t[0]);
    });
    Console.WriteLine($"translation in top 10: {hits} of {pairs.Count}");
    Console.WriteLine($"冷-cold+small: {J(space.Arithmetic(["冷", " small"], [" cold"], k: 3).Select(n => n.Text))}; 熱-hot+big: {J(space.Arithmetic(["熱", " big"], [" hot"], k: 3).Select(n => n.Text))}");
}

if (what is "all" or "lens")
{
    foreach (var p in new[] { "天氣", "天氣預", "今天天氣真", "天氣預報說明天會下", "The weather is really", "The weather" })
    {
        var r = LogitLens.Run(lens, lens.Prompt(p), new LogitLensOptions { LastPositionOnly = true, TopK = 3 });
        Console.WriteLine($"{p}: " + J(r.Top.Select((row, i) => $"{i}:{string.Join(",", row[^1].Select(x => x.Text))}")));
    }
}

if (what is "all" or "apple")
{
    string[] fruit = ["For lunch I ate a juicy apple and some bread.", "Grandma baked a warm apple pie for the children.", "The farmer picked a ripe apple in the orchard."];
    string[] company = ["The latest iPhone from apple sold out quickly.", "Shares of the tech company apple rose today.", "My sister bought a laptop made by apple."];
    void Report(string[] a, string[] b, string word)
    {
        var items = a.Concat(b).Select(s => new WordInContext(s, s.Contains("Apple") ? "Apple" : word)).ToList();
        var res = ContextualSimilarity.Compare(lens, items);
        int n = a.Length;
        for (int l = 0; l < res.Layers; l++)
        {
            double Mean(IReadOnlyList<NotebookLens.Inspection.Matrix> m, bool within)
            {
                double s = 0; int c = 0;
                for (int i = 0; i < 2 * n; i++) for (int j = i + 1; j < 2 * n; j++) if ((i < n == j < n) == within) { s += m[l][i, j]; c++; }
                return s / c;
            }
            double MinWithin(IReadOnlyList<NotebookLens.Inspection.Matrix> m) { double s = 9; for (int i = 0; i < 2 * n; i++) for (int j = i + 1; j < 2 * n; j++) if (i < n == j < n) s = Math.Min(s, m[l][i, j]); return s; }
            double MaxAcross(IReadOnlyList<NotebookLens.Inspection.Matrix> m) { double s = -9; for (int i = 0; i < 2 * n; i++) for (int j = i + 1; j < 2 * n; j++) if (i < n != j < n) s = Math.Max(s, m[l][i, j]); return s; }
            Console.WriteLine($"  layer {l}: raw within {Mean(res.Raw, true):F3} across {Mean(res.Raw, false):F3} minWithin {MinWithin(res.Raw):F3} maxAcross {MaxAcross(res.Raw):F3}; norm within {Mean(res.Normalized, true):F3} across {Mean(res.Normalized, false):F3} minWithin {MinWithin(res.Normalized):F3} maxAcross {MaxAcross(res.Normalized):F3}");
        }
    }
    Console.WriteLine("apple 6:"); Report(fruit, company, "apple");
    Console.WriteLine("apple 4:"); Report(["I ate an apple for breakfast.", "She baked an apple pie for dessert."], ["Apple released a new iPhone today.", "I bought shares of Apple last year."], "apple");
}

if (what is "all" or "attn")
{
    var maps = lens.Attention("The apple is green. What color is the apple?");
    int from = maps.Prompt.Count - 1, to = maps.Prompt.Locate("green");
    var best = maps.TopHeads(from, to, 3);
    Console.WriteLine($"apple green: {J(best.Select(h => $"L{h.Layer}H{h.Head}:{h.Score:F2}"))}; next {LogitLens.Run(lens, lens.Prompt("The apple is green. What color is the apple?"), new LogitLensOptions { LastPositionOnly = true, TopK = 1 }).Top[^1][^1][0].Text}");
    string[] things = ["ball", "car", "hat", "book", "cup", "kite", "boat", "lamp"], colors = ["red", "green", "blue", "yellow", "black", "white", "purple", "brown"];
    var scores = new double[L, lens.Config.NumHeads]; int correct = 0;
    foreach (var (thing, color) in things.Zip(colors))
    {
        var text = $"The {thing} is {color}. The {thing} has the color";
        var m = lens.Attention(text);
        int f = m.Prompt.Locate("color", occurrence: 1), t = m.Prompt.Locate(color);
        for (int l = 0; l < m.Layers; l++) for (int h = 0; h < m.Heads; h++) scores[l, h] += m.Head(l, h)[f, t] / things.Length;
        if (LogitLens.Run(lens, lens.Prompt(text), new LogitLensOptions { LastPositionOnly = true, TopK = 1 }).Top[^1][^1][0].Text == " " + color) correct++;
    }
    Console.WriteLine($"color head best {scores.Cast<double>().Max():F2}; correct {correct}/8");
}

if (what is "all" or "patch")
{
    var words = Lexicon.Of("animal").Take(8).Concat(Lexicon.Of("food").Take(8)).Concat(Lexicon.Of("thing").Take(8)).ToList();
    // Without a target, the model's own (its notebooklens.json).
    var own = lens.Defaults.Patchscope!;
    var target = new PatchscopeTarget(args.Length > 2 ? args[2] : own.Prompt, "x");
    int? targetLayer = args.Length <= 3 ? own.TargetLayer : args[3] == "same" ? null : int.Parse(args[3]);
    Console.WriteLine($"target: {target.Prompt}, target layer {targetLayer?.ToString() ?? "= source layer"}");
    int good = 0;
    foreach (var c in words)
    {
        var sweep = Patchscope.Sweep(lens, new PatchscopeSource($"Yesterday my friend saw the {c.English} near the river.") { Token = " " + c.English },
            Enumerable.Range(0, L), new PatchscopeOptions { Target = target, TargetLayer = targetLayer, MaxNewTokens = 4 });
        var hitLayers = sweep.Results.Where(r => r.Text.Contains(c.Chinese)).Select(r => r.SourceLayer).ToList();
        int mid = hitLayers.Count(l => l >= 1 && l <= L - 2);
        if (mid >= 3) good++;
        Console.WriteLine($"  {c.English} {c.Chinese}: hits at {string.Join(",", hitLayers)}; L{L / 2}: '{sweep.Results[L / 2].Text}'");
    }
    Console.WriteLine($"patchscope: {good} of {words.Count} words decoded at >= 3 middle layers");
}

if (what is "all" or "refusal")
{
    IReadOnlyList<string> Replies(IReadOnlyList<string> instructions)
    {
        var prompts = instructions.Select(i => tok.Encode(tok.ApplyChatTemplate([new ChatMessage("user", i)]), addSpecialTokens: false)).ToList();
        var results = lens.Model.GenerateBatch(prompts, GenerationOptions.Greedy(24) with { PadTokenId = lens.Config.PadTokenId ?? lens.Config.EosTokenIds[0] });
        return results.Select(r => tok.Decode(r.NewIds, skipSpecialTokens: true)).ToList();
    }
    string Refused(IReadOnlyList<string> set) { var replies = Replies(set); return $"{RefusalMatcher.Default.Rate(replies):P0} ({replies.Count(RefusalMatcher.Default.IsRefusal)} of {replies.Count})"; }
    Console.WriteLine($"held-out: harmful refused {Refused(InstructionSets.Harmful)}, harmless refused {Refused(InstructionSets.Harmless)}");
    foreach (var test in new[] { 8, 24 })
    {
        try
        {
            var r = RefusalExperiment.Run(lens, InstructionSets.Harmful, InstructionSets.Harmless, new RefusalExperimentOptions { TestCount = test });
            var b = r.Selection.Best!;
            Console.WriteLine($"refusal (test {test}): layer {b.Layer} pos {b.Position} KL {b.KlDivergence:F3} steer {b.SteeringScore:F2} refusal {b.RefusalScore:F2}; {J(r.Conditions.Select(c => $"{c.Name} {c.RefusalRate:P0}"))}");
            if (test == 8) foreach (var c in r.Selection.Candidates.Where(c => c.Score.Position == b.Position)) Console.WriteLine($"   L{c.Score.Layer} steer {c.Score.SteeringScore:F2} refusal {c.Score.RefusalScore:F2} KL {c.Score.KlDivergence:F3} {(c.Eligible ? "eligible" : string.Join(";", c.Discards.Select(d => d.Reason)))}");
        }
        catch (NoRefusalDirectionException e) { Console.WriteLine($"refusal (test {test}): {e.Message}"); }
    }
}

// Not in "all": how far each layer's direction at a post-instruction position falls short of the last position's,
// and the steering score with it scaled (the filters add it once); the first 32 instructions of each set, the next 8 scored.
if (what is "steer")
{
    int at = args.Length > 2 ? int.Parse(args[2]) : -4;
    var prompts = new InstructionPrompts(tok, null);
    int positions = prompts.PostInstructionCount;
    using var candidates = CandidateDirections.Compute(lens.Model, prompts.Ids(InstructionSets.Harmful.Take(32).ToList()), prompts.Ids(InstructionSets.Harmless.Take(32).ToList()), positions);
    using var scorer = new RefusalScorer(lens.Model, prompts.Ids(InstructionSets.Harmful.Skip(32).Take(8).ToList()), prompts.Ids(InstructionSets.Harmless.Skip(32).Take(8).ToList()),
        RefusalScorer.TokenIds(tok, ["I"]));
    Console.WriteLine($"baselines: harmful {scorer.BaselineHarmful:F2}, harmless {scorer.BaselineHarmless:F2}; position {at} against -1");
    for (int layer = 1; layer < L; layer++)
    {
        using var d = candidates[at, layer];
        using var last = candidates[-1, layer];
        double norm = d.norm().item<double>(), lastNorm = last.norm().item<double>(), along = (last.dot(d) / norm).item<double>();
        var steering = new[] { 1.0, 2.0, 3.0, 4.0 }.Select(k => { using var scaled = d * k; return $"x{k}: {scorer.Score(at, layer, scaled).SteeringScore:F2}"; });
        Console.WriteLine($"L{layer}: |d| {norm:F1}, |d(-1)| {lastNorm:F1}, d(-1) along d {along:F1} (cos {along / lastNorm:F2}); steering {J(steering)}");
    }
}

// Not in "all": the KL filter's view of one candidate (the last position's at LAYER, from the first 32 instructions of
// each set): each of the 8 harmless validation prompts' next-token distribution, plain and ablated, and its KL.
if (what is "kl")
{
    int layer = int.Parse(args[2]);
    var prompts = new InstructionPrompts(tok, null);
    using var candidates = CandidateDirections.Compute(lens.Model, prompts.Ids(InstructionSets.Harmful.Take(32).ToList()), prompts.Ids(InstructionSets.Harmless.Take(32).ToList()), prompts.PostInstructionCount);
    using var direction = candidates[-1, layer];
    var ablate = Interventions.AblateDirection(direction, lens.Config);
    string Top(TorchSharp.torch.Tensor p) { var (v, i) = p.topk(3); return J(Enumerable.Range(0, 3).Select(k => $"{tok.DisplayText((int)i[k].item<long>())}:{v[k].item<float>():F2}")); }
    double mean = 0;
    foreach (var text in InstructionSets.Harmless.Skip(32).Take(8))
    {
        var p = FirstAnswerToken(prompts, text);
        var q = FirstAnswerToken(prompts, text, ablate);
        double kl = (p * (p.log() - q.log())).sum().item<float>();
        mean += kl / 8;
        Console.WriteLine($"{text,-50} KL {kl:F3}  plain {Top(p)}  ablated {Top(q)}");
    }
    Console.WriteLine($"mean KL {mean:F3}");
}

if (what is "harmless")
{
    var prompts = new InstructionPrompts(tok, null);
    int refusalToken = RefusalScorer.TokenIds(tok, new RefusalExperimentOptions().RefusalTokens)[0];
    var rows = InstructionSets.Harmless
        .Select((text, i) => (Index: i, Text: text, P: FirstAnswerToken(prompts, text)[refusalToken].item<float>()))
        .OrderByDescending(r => r.P).ToList();
    foreach (var r in rows.Where(r => r.P >= 0.01))
        Console.WriteLine($"{r.Index,3} P(I) {r.P:F3}  {r.Text}");
    Console.WriteLine($"harmless with P(I) >= 0.1: {rows.Count(r => r.P >= 0.1)} of {rows.Count}; >= 0.5: {rows.Count(r => r.P >= 0.5)}; mean P(I) {rows.Average(r => r.P):F3}");
}

// The distribution of an instruction's first answer token (the chat template's last position), with hooks if given.
TorchSharp.torch.Tensor FirstAnswerToken(InstructionPrompts prompts, string instruction, NotebookLens.Models.HookSet? hooks = null)
{
    var ids = prompts.Ids(instruction);
    using var input = TorchSharp.torch.tensor(ids.Select(x => (long)x).ToArray(), [1, ids.Count]);
    using var run = lens.Model.Forward(input, new NotebookLens.Models.ForwardOptions { LastPositionLogitsOnly = true, Hooks = hooks });
    return run.Logits[0, -1].to(TorchSharp.torch.ScalarType.Float32).softmax(0);
}
