using NotebookLens.Inspection;
using NotebookLens.Views.Charts;
using NotebookLens.Views.Html;
using NotebookLens.Runtime;

namespace NotebookLens.Views;

/// <summary>
/// Attention views: one head as a heatmap with the tokens on both axes (future positions left blank, so the causal
/// triangle shows); all heads of some layers as a grid of small images that open a full heatmap when clicked; the
/// attention every layer and head pays to the first token; the heads that attend most from one token to another.
/// </summary>
public static class AttentionView
{
    /// <summary>Thumbnail side in pixels: longer prompts are max-pooled down to it (a sharp diagonal stays visible).</summary>
    public const int ThumbnailSize = 64;

    public static View Head(AttentionResult data, int layer, int head)
    {
        var map = Map(data, layer, head);
        int t = data.Tokens;
        var z = new double?[t][];
        var custom = new string[t][][];
        for (int q = 0; q < t; q++)
        {
            z[q] = new double?[t];
            custom[q] = new string[t][];
            for (int k = 0; k < t; k++)
            {
                z[q][k] = k > q ? null : map[q * t + k];
                custom[q][k] = [data.Labels[q], data.Labels[k]];
            }
        }
        var chart = Plots.Heatmap(z, zmin: 0, zmax: 1, customdata: custom,
            hover: "query %{customdata[0]} (%{y})<br>key %{customdata[1]} (%{x})<br>p = %{z:.4f}<extra></extra>");
        var labels = data.Labels.Select(Pieces.TokenText).ToList();
        int size = Math.Clamp(200 + t * 16, 480, 900);
        var html = ChartHtml.Render(chart, size + 60, size, new Dictionary<string, object>
        {
            ["xaxis"] = Plots.LabelledAxis(labels, "key", top: true),
            ["yaxis"] = Plots.LabelledAxis(labels, "query", reversed: true),
        });
        var text = new Table<int>().Add("query", q => data.Labels[q]);
        for (int k = 0; k < t; k++)
        {
            int key = k;
            text.AddNumber(Format.Visible(data.Labels[k]), q => key > q ? "" : Format.Fixed(map[q * t + key], 2));
        }
        return new View($"Attention, layer {layer}, head {head}", html, text.ToText(Enumerable.Range(0, t)), HasCharts: true);
    }

    /// <summary>
    /// Every head of <paramref name="layers"/> (default: all) as 64-pixel thumbnails (colour √p, so weak patterns
    /// show), one row per layer. A click opens the head's full map below the grid, drawn from an 8-bit copy of
    /// every map kept compressed in the page — so a 34-layer x 8-head grid of a 200-token prompt stays a few MB.
    /// </summary>
    public static View Grid(AttentionResult data, IReadOnlyList<int>? layers = null)
    {
        layers ??= Enumerable.Range(0, data.Layers).ToList();
        var html = new HtmlBuilder();
        html.Open("div", Attr.Class("nl-attention-grid"));
        html.Element("div", $"{layers.Count} layers x {data.Heads} heads, {data.Tokens} tokens. Colour: √p (query rows top to bottom, keys left to right). Click a head to open it.", Attr.Class("nl-sub"));
        html.Open("div", Attr.Class("nl-attention-body"));
        html.Open("div", Attr.Class("nl-heads"), ("style", $"grid-template-columns: max-content repeat({data.Heads}, 66px)"));
        html.Element("div", "");
        for (int h = 0; h < data.Heads; h++) html.Element("div", $"head {h}", Attr.Class("nl-head-label"), ("style", "text-align:center"));
        var maps = new string[data.Layers][];
        foreach (var layer in layers)
        {
            html.Element("div", $"layer {layer}", Attr.Class("nl-head-label"));
            maps[layer] = new string[data.Heads];
            for (int h = 0; h < data.Heads; h++)
            {
                var map = Map(data, layer, h);
                html.Void("img", ("src", "data:image/png;base64," + Convert.ToBase64String(Thumbnail(map, data.Tokens))),
                    ("alt", $"layer {layer} head {h}"), Attr.Title($"layer {layer}, head {h}"), ("data-layer", Format.Int(layer)), ("data-head", Format.Int(h)));
                maps[layer][h] = Convert.ToBase64String(Png.Zlib(Quantize(map)));
            }
        }
        html.Close("div");
        var payload = Json.Write(w =>
        {
            w.WriteStartObject();
            Json.WriteStrings(w, "labels", data.Labels.Select(Pieces.TokenText));
            Json.WriteStrings(w, "layerNames", Enumerable.Range(0, data.Layers).Select(l => Format.Int(l)));
            w.WriteStartArray("maps");
            foreach (var row in maps)
            {
                if (row is null) w.WriteNullValue();
                else
                {
                    w.WriteStartArray();
                    foreach (var map in row) w.WriteStringValue(map);
                    w.WriteEndArray();
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        html.Open("script", ("type", "application/json"), Attr.Class("nl-head-data")).Raw(payload).Close("script");
        html.Element("div", "", Attr.Class("nl-head-zoom"));
        html.Close("div").Close("div");
        var text = $"{layers.Count} layers x {data.Heads} heads, {data.Tokens} tokens: "
            + string.Join(" ", data.Labels.Select((label, i) => $"{i}:{Pieces.TokenText(label)}"))
            + "\nper head, the key each query attends to most (query:key):\n"
            + string.Concat(layers.SelectMany(l => Enumerable.Range(0, data.Heads).Select(h => $"layer {l} head {h}: {ArgmaxSummary(data, l, h)}\n")));
        return new View("Attention heads", html.ToString(), text, HasCharts: true);
    }

    /// <summary>Per layer and head, mean attention to the first token (the "sink"), as a layers x heads heatmap.</summary>
    public static View FirstToken(AttentionResult data)
    {
        var sink = data.FirstTokenAttention();
        var firstToken = data.Labels[0];
        int layers = sink.RowCount, heads = sink.ColumnCount;
        var z = Enumerable.Range(0, layers).Select(l => Enumerable.Range(0, heads).Select(h => (double?)sink[l, h]).ToArray()).ToArray();
        var chart = Plots.Heatmap(z, zmin: 0, zmax: 1, hover: "layer %{y}, head %{x}<br>mean attention to the first token: %{z:.3f}<extra></extra>", colorbarTitle: "p");
        var html = new HtmlBuilder().Element("div", $"{Pieces.ModelText(data.Model)}. Mean attention every query after the first pays to the first token ({Pieces.TokenText(firstToken)})", Attr.Class("nl-sub")).ToString()
            + ChartHtml.Render(chart, Math.Clamp(160 + heads * 40, 320, 900), Math.Clamp(120 + layers * 18, 260, 900), new Dictionary<string, object>
            {
                ["xaxis"] = Plots.Axis("head", new Dictionary<string, object> { ["dtick"] = 1 }),
                ["yaxis"] = Plots.Axis("layer", new Dictionary<string, object> { ["autorange"] = "reversed", ["dtick"] = 1 }),
            });
        var table = new Table<int>().AddNumber("layer", l => Format.Int(l));
        for (int h = 0; h < heads; h++)
        {
            int head = h;
            table.AddNumber($"h{h}", l => Format.Fixed(sink[l, head], 2));
        }
        return new View("Attention to the first token", html, table.ToText(Enumerable.Range(0, layers)), HasCharts: true);
    }

    /// <summary>The heads attending most from the token at <paramref name="from"/> to the token at <paramref name="to"/> (prompt positions).</summary>
    public static View TopHeads(AttentionResult data, int from, int to, int k = 5)
    {
        var heads = data.TopHeads(from, to, k);
        string Token(int index) => $"{Pieces.TokenText(data.Labels[data.Prompt.Position(index)])} (token {data.Prompt.Position(index)})";
        double max = heads.Select(h => h.Score).DefaultIfEmpty(1).Max();
        var table = new Table<HeadScore>()
            .AddNumber("layer", h => Format.Int(h.Layer))
            .AddNumber("head", h => Format.Int(h.Head))
            .AddHtml("attention", h => Format.Fixed(h.Score, 4), (html, h) => { Pieces.Bar(html, h.Score, 1); html.Text(" " + Format.Fixed(h.Score, 4)); }, numeric: true);
        var title = $"Heads attending from {Token(from)} to {Token(to)}";
        return new View(title, table.ToHtml(heads), table.ToText(heads), HasCharts: false);
    }

    static string ArgmaxSummary(AttentionResult data, int layer, int head)
    {
        var map = Map(data, layer, head);
        int t = data.Tokens;
        var parts = new string[t];
        for (int q = 0; q < t; q++)
        {
            int best = 0;
            for (int k = 1; k <= q; k++) if (map[q * t + k] > map[q * t + best]) best = k;
            parts[q] = $"{q}:{best}";
        }
        return string.Join(" ", parts);
    }

    /// <summary>One head's row-major map (layer and head checked, with the core's message).</summary>
    static float[] Map(AttentionResult data, int layer, int head)
    {
        Ranges.Check(layer, data.Layers, "layer");
        Ranges.Check(head, data.Heads, "head", "each layer");
        return data.Maps[layer * data.Heads + head];
    }

    /// <summary>Values in [0, 1] as bytes (p·255 rounded), for the page's full maps.</summary>
    internal static byte[] Quantize(ReadOnlySpan<float> map)
    {
        var bytes = new byte[map.Length];
        for (int i = 0; i < map.Length; i++) bytes[i] = (byte)Math.Round(Math.Clamp(map[i], 0f, 1f) * 255);
        return bytes;
    }

    /// <summary>A map max-pooled to at most <see cref="ThumbnailSize"/> pixels a side, coloured by √p; future cells dark.</summary>
    internal static byte[] Thumbnail(ReadOnlySpan<float> map, int t)
    {
        int side = Math.Min(t, ThumbnailSize);
        var rgb = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
        {
            int q0 = y * t / side, q1 = Math.Max(q0 + 1, (y + 1) * t / side);
            for (int x = 0; x < side; x++)
            {
                int k0 = x * t / side, k1 = Math.Max(k0 + 1, (x + 1) * t / side);
                float best = -1;
                for (int q = q0; q < q1; q++)
                    for (int k = k0; k < Math.Min(k1, q + 1); k++) best = Math.Max(best, map[q * t + k]);
                var (r, g, b) = best < 0 ? ((byte)40, (byte)40, (byte)40) : Viridis.At(Math.Sqrt(best));
                int i = (y * side + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = (r, g, b);
            }
        }
        return Png.Encode(side, side, rgb);
    }
}
