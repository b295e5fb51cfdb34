using System.Runtime.CompilerServices;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>State of one render of a <see cref="JinjaTemplate"/>: output, current scope and runaway guards.</summary>
internal sealed class RenderContext(Scope root, DateTime now)
{
    /// <summary>Loop iterations allowed in one render; chat templates need a few per message.</summary>
    public const long MaxLoopIterations = 1_000_000;

    /// <summary>Nesting of macro calls; a recursive macro without a base case stops here.</summary>
    public const int MaxCallDepth = 200;

    /// <summary>Longest output (in UTF-16 units) one render may produce.</summary>
    public const int MaxOutputLength = 64 * 1024 * 1024;

    private StringBuilder _output = new();
    private long _iterations;
    private int _callDepth;

    public Scope Scope { get; private set; } = root;

    /// <summary>The time <c>strftime_now</c> formats, fixed for the whole render.</summary>
    public DateTime Now => now;

    public void Write(string text)
    {
        if (_output.Length + text.Length > MaxOutputLength)
            throw new TemplateRuntimeException($"template output exceeds {MaxOutputLength} characters");
        _output.Append(text);
    }

    public string Output => _output.ToString();

    /// <summary>Runs <paramref name="render"/> with output redirected, for macros and block sets.</summary>
    public string Capture(Action render)
    {
        StringBuilder saved = _output;
        _output = new StringBuilder();
        try
        {
            render();
            return _output.ToString();
        }
        finally
        {
            _output = saved;
        }
    }

    public T InScope<T>(Scope scope, Func<T> body)
    {
        Scope saved = Scope;
        Scope = scope;
        try
        {
            return body();
        }
        finally
        {
            Scope = saved;
        }
    }

    /// <summary>
    /// Fails cleanly before deep nesting (recursive macros, nested expressions) exhausts the thread's
    /// stack, which would otherwise kill the process whatever the depth limits say.
    /// </summary>
    public static void GuardStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new TemplateRuntimeException("runaway template: nesting too deep for the available stack");
    }

    public void CountIteration()
    {
        if (++_iterations > MaxLoopIterations)
            throw new TemplateRuntimeException($"runaway template: more than {MaxLoopIterations} loop iterations in one render");
    }

    public T EnterCall<T>(string callee, Func<T> body)
    {
        if (++_callDepth > MaxCallDepth)
        {
            _callDepth--;
            throw new TemplateRuntimeException($"runaway template: calls nested more than {MaxCallDepth} deep (in {callee})");
        }

        try
        {
            return body();
        }
        finally
        {
            _callDepth--;
        }
    }
}
