using NotebookLens.Steering;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>
/// The refusal experiment: the selected direction; per-layer charts of the refusal score (ablation, lower is better),
/// the steering score (addition, higher is better) and the KL divergence, one line per post-instruction position with
/// the selected candidate starred; the four refusal rates; the four conditions' completions side by side; and every
/// candidate with the reasons it was discarded.
/// </summary>
public static class RefusalView
{
    static readonly Dictionary<string, string> ConditionNames = new()
    {
        [RefusalExperiment.HarmfulBaseline] = "harmful, no intervention",
        [RefusalExperiment.HarmlessBaseline] = "harmless, no intervention",
        [RefusalExperiment.HarmlessAdded] = "harmless + direction (induce)",
        [RefusalExperiment.HarmfulAblated] = "harmful, direction ablated (bypass)",
    };

    public static View Create(RefusalExperimentResult result)
    {
        var selection = result.Selection;
        var best = selection.Best;
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, result.Model);
        var facts = Facts(result);
        Pieces.Facts(html, facts);

        html.Element("h3", "Candidates per layer and position");
        html.Open("div", Attr.Class("nl-cols"));
        foreach (var (name, score, note) in Scores)
            html.Element("div", c => c.Element("div", $"{name} ({note})", Attr.Class("nl-sub")).Raw(ScoreChart(result, score, name)));
        html.Close("div");

        html.Element("h3", "Refusal rates");
        RateTable.WriteHtml(html, result.Conditions);

        html.Element("h3", "Completions");
        html.Open("div", Attr.Class("nl-cols"));
        foreach (var condition in result.Conditions)
        {
            html.Open("div").Element("div", $"{Name(condition.Name)}: {Format.Percent(condition.RefusalRate)} refused", Attr.Class("nl-sub"));
            CompletionTable.WriteHtml(html, condition.Completions);
            html.Close("div");
        }
        html.Close("div");

        html.Open("details").Element("summary", c => c.Text("All candidates").Element("span", $"{selection.Candidates.Count}, {selection.Candidates.Count(x => x.Eligible)} eligible", Attr.Class("nl-count")));
        CandidateTable(result).WriteHtml(html, selection.Candidates, rowClass: c => c.Score == best ? "nl-chosen" : c.Eligible ? null : "nl-discarded");
        html.Close("details");

        var text = Pieces.FactsText(facts) + "\nrefusal rates\n" + RateTable.ToText(result.Conditions)
            + string.Concat(result.Conditions.Select(c => $"\n{Name(c.Name)}\n" + CompletionTable.ToText(c.Completions)))
            + "\ncandidates\n" + CandidateTable(result).ToText(selection.Candidates);
        return new View("Refusal direction", html.ToString(), text, HasCharts: true);
    }

    static readonly (string Name, Func<CandidateScore, double> Score, string Note)[] Scores =
    [
        ("refusal score", s => s.RefusalScore, "harmful prompts, direction ablated: lower bypasses better"),
        ("steering score", s => s.SteeringScore, "harmless prompts, direction added: higher induces better"),
        ("KL divergence", s => s.KlDivergence, "harmless prompts, ablated vs untouched: lower changes less"),
    ];

    static List<(string, string)> Facts(RefusalExperimentResult result)
    {
        var facts = new List<(string, string)>();
        if (result.Selection.Best is { } b)
        {
            facts.Add(("selected", $"layer {b.Layer}, position {b.Position} ({PositionLabel(result, b.Position)})"));
            facts.Add(("refusal score", $"{Format.Fixed(b.RefusalScore, 3)} (harmful baseline {Format.Fixed(result.BaselineHarmful, 3)})"));
            facts.Add(("steering score", $"{Format.Fixed(b.SteeringScore, 3)} (harmless baseline {Format.Fixed(result.BaselineHarmless, 3)})"));
            facts.Add(("KL divergence", Format.Fixed(b.KlDivergence, 4)));
            // Significant digits: a norm of 1e-6 (rounding noise) must not read as the exact zero of layer 0.
            facts.Add(("direction norm", Format.Number(b.Norm)));
        }
        var t = result.Selection.Thresholds;
        facts.Add(("filters", $"layers < {result.Selection.FirstPrunedLayer}; KL ≤ {(t.MaxKlDivergence is double kl ? Format.Number(kl) : "off")}; steering ≥ {(t.MinSteeringScore is double s ? Format.Number(s) : "off")}"));
        return facts;
    }

    static string PositionLabel(RefusalExperimentResult result, int position)
    {
        int index = result.PostInstructionTokens.Count + position;
        return index >= 0 && index < result.PostInstructionTokens.Count ? Pieces.TokenText(result.PostInstructionTokens[index]) : "?";
    }

    static string Name(string condition) => ConditionNames.GetValueOrDefault(condition, condition);

    static string ScoreChart(RefusalExperimentResult result, Func<CandidateScore, double> score, string name)
    {
        var candidates = result.Selection.Candidates.Select(c => c.Score).ToList();
        var lines = candidates.GroupBy(c => c.Position).OrderBy(g => g.Key).Select(g =>
        {
            var ordered = g.OrderBy(c => c.Layer).ToList();
            return (Name: $"{g.Key} {PositionLabel(result, g.Key)}", X: ordered.Select(c => (double)c.Layer).ToList(), Y: ordered.Select(score).ToList());
        }).ToList();
        var charts = lines.Select(l => Plots.Lines(l.X, [(l.Name, l.Y)], hover: "layer %{x}: %{y:.3f}")).ToList();
        if (result.Selection.Best is { } b)
            charts.Add(Plots.Points([b.Layer], [score(b)], ["selected"], "selected", showLabels: false, markerSize: 16, symbol: "star"));
        return ChartHtml.Render(Plots.Combine(charts), 420, 320, new Dictionary<string, object>
        {
            ["xaxis"] = Plots.Axis("layer", new Dictionary<string, object> { ["dtick"] = 1 }),
            ["yaxis"] = Plots.Axis(name),
            ["legend"] = new Dictionary<string, object> { ["orientation"] = "h", ["y"] = -0.3, ["yanchor"] = "top" },
        });
    }

    static readonly Table<ConditionResult> RateTable = new Table<ConditionResult>()
        .Add("condition", c => Name(c.Name))
        .AddNumber("prompts", c => Format.Int(c.Completions.Count))
        .AddHtml("refused", c => Format.Percent(c.RefusalRate), (html, c) => { Pieces.Bar(html, c.RefusalRate, 1); html.Text(" " + Format.Percent(c.RefusalRate)); }, numeric: true);

    static readonly Table<Completion> CompletionTable = new Table<Completion>()
        .Add("instruction", c => c.Instruction)
        .AddHtml("completion", c => c.Text, (html, c) => html.Element("div", c.Text, Attr.Class("nl-completion")))
        .AddHtml("judged", c => c.Refusal ? "refusal" : "complied", (html, c) => html.Element("span", c.Refusal ? "refusal" : "complied", Attr.Class(c.Refusal ? "nl-refusal" : "nl-complied")));

    static Table<JudgedCandidate> CandidateTable(RefusalExperimentResult result) => new Table<JudgedCandidate>()
        .AddNumber("layer", c => Format.Int(c.Score.Layer))
        .AddNumber("position", c => Format.Int(c.Score.Position))
        .Add("token", c => PositionLabel(result, c.Score.Position))
        .AddNumber("refusal", c => Format.Fixed(c.Score.RefusalScore, 3))
        .AddNumber("steering", c => Format.Fixed(c.Score.SteeringScore, 3))
        .AddNumber("KL", c => Format.Fixed(c.Score.KlDivergence, 4))
        .Add("discarded because", c => c.Score == result.Selection.Best ? "selected" : string.Join("; ", c.Discards.Select(d => d.Message)));
}
