using NotebookLens.Steering;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>A Patchscope layer sweep: which token was read and where it was patched, then one continuation per source layer.</summary>
public static class PatchscopeView
{
    public static View Create(LensModel model, PatchscopeSweep sweep)
    {
        string Label(IReadOnlyList<int> ids, int position) => $"{Pieces.TokenText(model.Tokenizer.DisplayText(ids[position]))} (token {position})";
        var source = model.Tokenizer.Decode(sweep.SourceIds, skipSpecialTokens: true);
        var target = model.Tokenizer.Decode(sweep.TargetIds, skipSpecialTokens: true);
        var facts = new List<(string, string)>
        {
            ("source", $"{source}  →  {Label(sweep.SourceIds, sweep.SourcePosition)}"),
            ("target", $"{target}  →  {Label(sweep.TargetIds, sweep.TargetPosition)}"),
        };
        var table = new Table<PatchscopeResult>()
            .AddNumber("source layer", r => Format.Int(r.SourceLayer))
            .AddNumber("target layer", r => Format.Int(r.TargetLayer))
            .AddHtml("continuation", r => r.Text, (html, r) => html.Element("span", r.Text, Attr.Class("nl-completion")));
        var html = new HtmlBuilder();
        Pieces.Facts(html, facts);
        table.WriteHtml(html, sweep.Results);
        return new View("Patchscope", html.ToString(), Pieces.FactsText(facts) + table.ToText(sweep.Results), HasCharts: false);
    }
}
