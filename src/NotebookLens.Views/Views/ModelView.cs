using System.Text;
using System.Text.RegularExpressions;
using NotebookLens.Models;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>Parameters that belong together in the table: the embeddings and head, one decoder layer, or the vision tower.</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<ModelParameter> Parameters)
{
    public long ElementCount => Parameters.Sum(p => p.ElementCount);

    public bool AllLoaded => Parameters.All(p => p.Loaded);
}

/// <summary>
/// A model: its architecture (from <see cref="ModelConfig"/>) and its parameters grouped by layer, each group a
/// collapsible <c>details</c> with its count; Gemma 3's vision tower and projector (listed, not loaded) form a
/// group of their own; totals at the top.
/// </summary>
public static partial class ModelView
{
    public static View Create(LensModel model) => Create(model.Summary());

    public static View Create(ModelSummary summary) => Create(summary.Config, summary.Parameters, summary.Model, engine: summary.Engine);

    /// <param name="listParameters">False: the architecture and totals only (the CLI's <c>info</c> without <c>--parameters</c>).</param>
    /// <param name="engine">How the process runs the model (<see cref="LensModel.Engine"/>), shown under the architecture.</param>
    public static View Create(ModelConfig config, IReadOnlyList<ModelParameter> parameters, ModelRef? model = null, bool listParameters = true, string? engine = null)
    {
        var facts = Architecture(config, parameters);
        var html = new HtmlBuilder();
        if (model is not null) Pieces.ModelLine(html, model);
        Pieces.Facts(html, facts);
        if (engine is not null) html.Element("div", $"engine: {engine}", Attr.Class("nl-sub nl-engine"));
        var text = new StringBuilder(model is null ? "" : $"{Pieces.ModelText(model)}, from {model.Source}\n").Append(Pieces.FactsText(facts));
        if (engine is not null) text.Append($"engine: {engine}\n");
        var title = model is null ? $"Model ({config.ModelType})" : $"Model {model.Name} ({config.ModelType}, from {model.Source})";
        if (!listParameters) return new View(title, html.ToString(), text.ToString(), HasCharts: false);
        text.Append('\n');
        var groups = Groups(parameters);
        html.Element("h3", "Parameters");
        html.Element("div", $"{parameters.Count} tensors in {groups.Count} groups; click a group to open it", Attr.Class("nl-sub"));
        foreach (var group in groups)
        {
            html.Open("details", Attr.Flag("open", groups.Count <= 3));
            html.Open("summary").Text(group.Name)
                .Element("span", $"{group.Parameters.Count} tensors, {Format.Count(group.ElementCount)} parameters" + (group.AllLoaded ? "" : ", not loaded"), Attr.Class("nl-count"))
                .Close("summary");
            ParameterTable.WriteHtml(html, group.Parameters);
            html.Close("details");
        }
        foreach (var group in groups)
            text.Append($"{group.Name} ({group.Parameters.Count} tensors, {Format.Count(group.ElementCount)} parameters{(group.AllLoaded ? "" : ", not loaded")})\n")
                .Append(ParameterTable.ToText(group.Parameters)).Append('\n');
        return new View(title, html.ToString(), text.ToString(), HasCharts: false);
    }

    static List<(string, string)> Architecture(ModelConfig c, IReadOnlyList<ModelParameter> parameters)
    {
        long total = parameters.Sum(p => p.ElementCount);
        long loaded = parameters.Where(p => p.Loaded).Sum(p => p.ElementCount);
        var facts = new List<(string, string)>
        {
            ("model type", $"{c.ModelType} ({c.Family})"),
            ("layers", Format.Int(c.NumLayers)),
            ("hidden size", Format.Int(c.HiddenSize)),
            ("MLP size", $"{Format.Int(c.IntermediateSize)} ({c.HiddenAct})"),
            ("attention heads", $"{c.NumHeads} query, {c.NumKeyValueHeads} key/value (groups of {c.KeyValueGroups}), head dim {c.HeadDim}"),
            ("vocabulary", Format.Count(c.VocabSize)),
            ("context", Format.Count(c.MaxPositions) + " positions"),
            ("RoPE", $"θ = {Format.Number(c.Rope.Theta)}, {c.Rope.Type}" + (c.Rope.Type == "default" ? "" : $" × {Format.Number(c.Rope.Factor)}")
                + (c.LocalRope is { } local ? $"; local layers θ = {Format.Number(local.Theta)}" : "")),
            ("embeddings", c.TieWordEmbeddings ? "tied (the LM head reads the input table)" : "separate LM head"),
        };
        if (c.SlidingWindow is int window)
            facts.Add(("sliding window", $"{Format.Count(window)} tokens on {c.SlidingLayers.Count(s => s)} of {c.NumLayers} layers"
                + $" (full attention: {string.Join(", ", Enumerable.Range(0, c.NumLayers).Where(i => !c.SlidingLayers[i]))})"));
        if (c.FinalLogitSoftcapping is double cap) facts.Add(("logit soft-capping", Format.Number(cap)));
        facts.Add(("parameters", Format.Count(total) + (loaded == total ? "" : $" ({Format.Count(loaded)} loaded)")));
        var dtypes = parameters.Where(p => p.Loaded).Select(p => DTypes.Name(p.DType)).Distinct().ToList();
        if (dtypes.Count > 0) facts.Add(("dtype", string.Join(", ", dtypes)));
        return facts;
    }

    /// <summary>
    /// Groups in checkpoint order of first appearance: "layer i" for every name with <c>layers.i.</c>, the vision
    /// tower and projector as one group, everything else (embeddings, final norm, LM head) as "embeddings and head".
    /// </summary>
    public static IReadOnlyList<ParameterGroup> Groups(IReadOnlyList<ModelParameter> parameters)
    {
        var order = new List<string>();
        var members = new Dictionary<string, List<ModelParameter>>();
        foreach (var p in parameters)
        {
            var key = GroupOf(p.Name);
            if (!members.TryGetValue(key, out var list))
            {
                members[key] = list = [];
                order.Add(key);
            }
            list.Add(p);
        }
        // Decoder layers in numeric order, then the rest where they first appeared (a checkpoint sorts "layers.10" before "layers.2").
        var layers = order.Where(k => k.StartsWith(LayerPrefix, StringComparison.Ordinal)).OrderBy(k => int.Parse(k[LayerPrefix.Length..])).ToList();
        var others = order.Where(k => !k.StartsWith(LayerPrefix, StringComparison.Ordinal)).ToList();
        var keys = others.Where(k => k == Embeddings).Concat(layers).Concat(others.Where(k => k != Embeddings));
        return keys.Select(k => new ParameterGroup(k, members[k])).ToList();
    }

    const string LayerPrefix = "layer ";
    const string Embeddings = "embeddings and head";
    const string Vision = "vision tower and projector";

    static string GroupOf(string name)
    {
        if (VisionName().IsMatch(name)) return Vision;
        var layer = LayerName().Match(name);
        return layer.Success ? LayerPrefix + layer.Groups[1].Value : Embeddings;
    }

    [GeneratedRegex(@"(^|\.)(vision_tower|multi_modal_projector)(\.|$)")]
    private static partial Regex VisionName();

    [GeneratedRegex(@"(?:^|\.)layers\.(\d+)\.")]
    private static partial Regex LayerName();

    static readonly Table<ModelParameter> ParameterTable = new Table<ModelParameter>()
        .Add("name", p => p.Name)
        .Add("shape", p => Format.Shape(p.Shape))
        .Add("dtype", p => DTypes.Name(p.DType))
        .AddNumber("count", p => Format.Count(p.ElementCount))
        .Add("loaded", p => p.Loaded ? "yes" : "no");
}
