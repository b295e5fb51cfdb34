namespace NotebookLens.Templates;

/// <summary>An expression node. Runtime errors raised while evaluating it are stamped with its position.</summary>
internal abstract class Expr(SourcePos pos)
{
    public SourcePos Pos => pos;

    public object? Evaluate(RenderContext ctx)
    {
        try
        {
            RenderContext.GuardStack();
            return Eval(ctx);
        }
        catch (TemplateRuntimeException e) when (!e.IsLocated)
        {
            throw Located.At(e, pos);
        }
    }

    /// <summary>Source-like text of the expression, to name it in error messages.</summary>
    public abstract string Describe();

    protected abstract object? Eval(RenderContext ctx);
}

internal static class Located
{
    public static TemplateRuntimeException At(TemplateRuntimeException e, SourcePos pos) =>
        new($"{e.Message} (at {pos})", e) { IsLocated = true };
}
