using NotebookLens.Steering;
using NotebookLens.Views.Html;

namespace NotebookLens.Views;

/// <summary>A Patchscope layer sweep: which token was read and where it was patched, then one continuation per source layer.</summary>
public static class PatchscopeView
{
    public static View Create(PatchscopeSweep sweep)
    {
        static string Label(Tokenization.Prompt prompt, int position) => $"{Pieces.TokenText(prompt.Tokens[position].Text)} (token {position})";
        var facts = new List<(string, string)>
        {
            ("source", $"{sweep.Source.Text}  →  {Label(sweep.Source, sweep.SourcePosition)}"),
            ("target", $"{sweep.Target.Text}  →  {Label(sweep.Target, sweep.TargetPosition)}"),
        };
        var table = new Table<PatchscopeResult>()
            .AddNumber("source layer", r => Format.Int(r.SourceLayer))
            .AddNumber("target layer", r => Format.Int(r.TargetLayer))
            .AddHtml("continuation", r => r.Text, (html, r) => html.Element("span", r.Text, Attr.Class("nl-completion")));
        var html = new HtmlBuilder();
        Pieces.ModelLine(html, sweep.Model);
        Pieces.Facts(html, facts);
        table.WriteHtml(html, sweep.Results);
        return new View("Patchscope", html.ToString(), Pieces.FactsText(facts) + table.ToText(sweep.Results), HasCharts: false);
    }
}
