namespace NotebookLens.Notebooks.Tests;

/// <summary>
/// The base of one notebook's checks: a file Notebook0NChecks.cs beside this one,
/// <code>
/// public sealed class Notebook03Checks(NotebookRuns runs) : NotebookChecks(runs)
/// {
///     protected override string Notebook => "03-logit-lens";
///
///     [Theory, Runners]
///     public async Task The_lens_of_the_weather_sentence_ends_in_hao(Runner runner)
///     {
///         var cell = (await Executed(runner)).Cell("lens-weather");
///         Assert.Contains(expectedFromTheCoreApi, cell.Text);
///     }
/// }
/// </code>
/// Each check runs once per runner against the notebook that runner executed (run once per test run, shared by every
/// check; see <see cref="ExecutedNotebook"/> for reading cells). <see cref="Executed"/> first fails with the erroring
/// cells, so a check never reads the outputs of a notebook that broke. Hold outputs to your own computation through
/// the core API (<see cref="Tiny"/>), not to numbers copied from a run.
/// </summary>
[Collection(NotebookCollection.Name)]
public abstract class NotebookChecks(NotebookRuns runs)
{
    /// <summary>The notebook's file name in notebooks/, without .ipynb.</summary>
    protected abstract string Notebook { get; }

    /// <summary>The notebook as <paramref name="runner"/> executed it, every cell without an error.</summary>
    protected async Task<ExecutedNotebook> Executed(Runner runner)
    {
        var notebook = await runs.Executed(Notebook, runner);
        notebook.AssertRanWithoutErrors();
        return notebook;
    }

    /// <summary>The embedded model the notebooks run on, loaded once for every check.</summary>
    protected static LensModel Tiny => TinyModel.Lens;

    protected static LensModel TinyGemma => TinyModel.Gemma;
}
