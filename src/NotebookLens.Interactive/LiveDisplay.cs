using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Views.Html;

namespace NotebookLens.Interactive;

/// <summary>
/// One plain-text line in the running cell, shown on the first <see cref="Show"/> and updated in place after that
/// (a <c>DisplayedValueUpdated</c> event, which Polyglot Notebooks and Jupyter redraw without adding an output).
/// </summary>
sealed class LiveLine(KernelInvocationContext? context)
{
    readonly Lock _lock = new();
    DisplayedValue? _value;

    /// <summary>
    /// The cell that runs now. Analyses run their work on a worker thread without the context in hand; .NET
    /// Interactive keeps it in an AsyncLocal, which the work's task inherits.
    /// </summary>
    public static LiveLine ForCurrentCell() => new(KernelInvocationContext.Current);

    public void Show(string text)
    {
        if (context is null) return;
        lock (_lock)
        {
            if (_value is null) _value = KernelInvocationContextExtensions.Display(context, text, PlainTextFormatter.MimeType);
            else _value.Update(text);
        }
    }
}

/// <summary>Long work's <see cref="LensProgress"/> (refusal scoring, a Patchscope sweep) as a live line: stage, count, time left.</summary>
sealed class ProgressLine(LiveLine line) : IProgress<LensProgress>
{
    public void Report(LensProgress value)
    {
        var total = value.Total is { } t ? " of " + Format.Count(t) : "";
        var unit = value.Unit.Length > 0 ? " " + value.Unit : "";
        var detail = value.Detail is null ? "" : $" ({value.Detail})";
        var left = value.Remaining is { } r && !value.Finished ? $", {r:mm\\:ss} left" : "";
        line.Show($"{value.Stage}: {Format.Count(value.Done)}{total}{unit}{detail}, {value.Elapsed:mm\\:ss} elapsed{left}");
    }
}

/// <summary>
/// A generation's text as it grows, one update per token: the prompt, then the decoded new tokens, holding back the
/// bytes of a character not complete yet (a token can end inside a UTF-8 sequence).
/// </summary>
sealed class TokenStream(LiveLine line, TextModel model, string prompt)
{
    readonly List<int> _ids = [];

    public void Add(int id)
    {
        _ids.Add(id);
        var text = model.Decode(_ids, cleanUpTokenizationSpaces: false);
        line.Show(prompt + text.TrimEnd('\uFFFD'));
    }
}
