using NotebookLens.Models;
using static TorchSharp.torch;

namespace NotebookLens.Views.Tests;

[Collection(TinyCollection.Name)]
public class ModelViewTests(TinyModel tiny)
{
    [Fact]
    public void Parameters_are_grouped_by_layer_with_counts_that_add_up()
    {
        var parameters = tiny.Lens.Model.Parameters;
        var doc = Dom.Parse(ModelView.Create(tiny.Lens));
        var groups = doc.QuerySelectorAll("details").ToList();
        Assert.Equal(1 + tiny.Lens.Config.NumLayers, groups.Count);
        Assert.Equal("embeddings and head", groups[0].QuerySelector("summary")!.FirstChild!.TextContent);
        Assert.Equal(Enumerable.Range(0, tiny.Lens.Config.NumLayers).Select(l => $"layer {l}"), groups.Skip(1).Select(g => g.QuerySelector("summary")!.FirstChild!.TextContent));
        // Every parameter appears once, in the group its name says, with its element count.
        var rows = groups.SelectMany(g => g.QuerySelectorAll("tbody tr").Select(tr => (Group: g.QuerySelector("summary")!.FirstChild!.TextContent, Cells: tr.QuerySelectorAll("td").Select(td => td.TextContent).ToList()))).ToList();
        Assert.Equal(parameters.Select(p => p.Name).Order(), rows.Select(r => r.Cells[0]).Order());
        foreach (var (group, cells) in rows.Where(r => r.Group.StartsWith("layer ")))
            Assert.Contains($"layers.{group["layer ".Length..]}.", cells[0]);
        long total = parameters.Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(total, rows.Sum(r => long.Parse(r.Cells[3].Replace(",", ""))));
        var facts = doc.QuerySelectorAll("dt").Zip(doc.QuerySelectorAll("dd"), (dt, dd) => (dt.TextContent, dd.TextContent)).ToDictionary();
        Assert.Equal(total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), facts["parameters"]);
        Assert.Equal(tiny.Lens.Config.NumLayers.ToString(), facts["layers"]);
        Assert.StartsWith($"{tiny.Lens.Name} · llama · ", doc.QuerySelector(".nl-note")!.TextContent);
    }

    [Fact]
    public void Gemma_vision_tower_parameters_form_their_own_group_marked_not_loaded()
    {
        ModelParameter P(string name, bool loaded, params long[] shape) => new(name, shape, ScalarType.BFloat16, loaded);
        var parameters = new[]
        {
            P("language_model.model.embed_tokens.weight", true, 262208, 2560),
            P("language_model.model.layers.10.mlp.up_proj.weight", true, 10240, 2560),
            P("language_model.model.layers.2.mlp.up_proj.weight", true, 10240, 2560),
            P("multi_modal_projector.mm_input_projection_weight", false, 1152, 2560),
            P("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight", false, 4304, 1152),
            P("language_model.model.norm.weight", true, 2560),
        };
        var groups = ModelView.Groups(parameters);
        Assert.Equal(["embeddings and head", "layer 2", "layer 10", "vision tower and projector"], groups.Select(g => g.Name));
        Assert.Equal(2, groups[0].Parameters.Count);
        var vision = groups[3];
        Assert.False(vision.AllLoaded);
        Assert.Equal(1152L * 2560 + 4304L * 1152, vision.ElementCount);
    }

    [Fact]
    public void The_text_view_lists_every_parameter()
    {
        var text = ModelView.Create(tiny.Lens).Text;
        foreach (var p in tiny.Lens.Model.Parameters) Assert.Contains(p.Name, text);
        Assert.Contains("layer 5 (9 tensors", text);
    }

    [Fact]
    public void The_summary_says_how_the_engine_runs_the_model()
    {
        // #!model info's view: which products libtorch and NotebookLens's kernels take in this process.
        var view = ModelView.Create(tiny.Lens.Summary());
        Assert.Equal($"engine: {LensModel.Engine}", Dom.Parse(view).QuerySelector(".nl-engine")!.TextContent);
        Assert.Contains($"engine: {LensModel.Engine}\n", view.Text);
        Assert.Contains("bf16 products", LensModel.Engine);
        Assert.Contains("fp32 products", LensModel.Engine);
        Assert.Null(Dom.Parse(ModelView.Create(tiny.Lens.Config, tiny.Lens.Parameters)).QuerySelector(".nl-engine"));
    }
}
