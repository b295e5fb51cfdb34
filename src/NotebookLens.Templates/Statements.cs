namespace NotebookLens.Templates;

internal sealed class TextStatement(SourcePos pos, string text) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        ctx.Write(text);
        return Flow.Normal;
    }
}

/// <summary><c>{{ expr }}</c> or <c>{% print expr %}</c>.</summary>
internal sealed class OutputStatement(SourcePos pos, Expr expr) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        ctx.Write(PyRepr.Str(expr.Evaluate(ctx)));
        return Flow.Normal;
    }
}

/// <summary>if/elif/else. Bodies run in the enclosing scope, so their <c>set</c>s stay visible after endif.</summary>
internal sealed class IfStatement(SourcePos pos, IReadOnlyList<(Expr Test, IReadOnlyList<Statement> Body)> branches, IReadOnlyList<Statement> otherwise)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        foreach ((Expr test, IReadOnlyList<Statement> body) in branches)
        {
            if (PyOps.IsTrue(test.Evaluate(ctx)))
                return ExecuteAll(body, ctx);
        }

        return ExecuteAll(otherwise, ctx);
    }
}

/// <summary>
/// <c>for target in iterable [if filter]</c>. Each iteration gets a fresh scope (jinja2 resets
/// loop-local assignments every iteration), and <c>else</c> runs only when nothing was iterated.
/// </summary>
internal sealed class ForStatement(
    SourcePos pos, AssignTarget target, Expr iterable, Expr? filter, IReadOnlyList<Statement> body, IReadOnlyList<Statement> otherwise)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        Scope outer = ctx.Scope;
        List<object?> items = PyOps.Iterate(iterable.Evaluate(ctx));
        if (filter is not null)
            items = items.Where(item => ctx.InScope(new Scope(outer), () => Passes(item, ctx))).ToList();

        if (items.Count == 0)
            return ctx.InScope(new Scope(outer), () => ExecuteAll(otherwise, ctx));

        var loop = new LoopContext(items);
        for (int i = 0; i < items.Count; i++)
        {
            ctx.CountIteration();
            loop.Index0 = i;
            var scope = new Scope(outer);
            Flow flow = ctx.InScope(scope, () =>
            {
                target.Assign(items[i], ctx);
                scope.Set("loop", loop);
                return ExecuteAll(body, ctx);
            });
            if (flow == Flow.Break)
                break;
        }

        return Flow.Normal;
    }

    private bool Passes(object? item, RenderContext ctx)
    {
        ctx.CountIteration();
        target.Assign(item, ctx);
        return PyOps.IsTrue(filter!.Evaluate(ctx));
    }
}

/// <summary><c>{% set target = value %}</c>.</summary>
internal sealed class SetStatement(SourcePos pos, AssignTarget target, Expr value) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        target.Assign(value.Evaluate(ctx), ctx);
        return Flow.Normal;
    }
}

/// <summary><c>{% set target | filters %}body{% endset %}</c>: assigns the rendered body.</summary>
internal sealed class SetBlockStatement(SourcePos pos, AssignTarget target, IReadOnlyList<FilterCall> filters, IReadOnlyList<Statement> body)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        object? value = ctx.InScope(new Scope(ctx.Scope), () => ctx.Capture(() => ExecuteAll(body, ctx)));
        foreach (FilterCall filter in filters)
            value = filter.Apply(value, ctx);
        target.Assign(value, ctx);
        return Flow.Normal;
    }
}

/// <summary><c>{% filter f %}body{% endfilter %}</c>: prints the rendered body passed through the filters.</summary>
internal sealed class FilterBlockStatement(SourcePos pos, IReadOnlyList<FilterCall> filters, IReadOnlyList<Statement> body) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        object? value = ctx.InScope(new Scope(ctx.Scope), () => ctx.Capture(() => ExecuteAll(body, ctx)));
        foreach (FilterCall filter in filters)
            value = filter.Apply(value, ctx);
        ctx.Write(PyRepr.Str(value));
        return Flow.Normal;
    }
}

internal sealed class MacroStatement(SourcePos pos, string name, IReadOnlyList<Parameter> parameters, IReadOnlyList<Statement> body)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        ctx.Scope.Set(name, new Macro(name, parameters, body, ctx.Scope));
        return Flow.Normal;
    }
}

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: the body becomes the macro's <c>caller()</c>.</summary>
internal sealed class CallBlockStatement(SourcePos pos, CallExpr call, IReadOnlyList<Parameter> parameters, IReadOnlyList<Statement> body)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        var caller = new Macro("caller", parameters, body, ctx.Scope);
        ctx.Write(PyRepr.Str(call.Invoke(ctx, new KeyValuePair<string, object?>("caller", caller))));
        return Flow.Normal;
    }
}

/// <summary><c>{% with a = x, b = y %}body{% endwith %}</c>: values are computed outside, bound inside a new scope.</summary>
internal sealed class WithStatement(SourcePos pos, IReadOnlyList<(AssignTarget Target, Expr Value)> assignments, IReadOnlyList<Statement> body)
    : Statement(pos)
{
    protected override Flow Run(RenderContext ctx)
    {
        var values = assignments.Select(a => a.Value.Evaluate(ctx)).ToList();
        return ctx.InScope(new Scope(ctx.Scope), () =>
        {
            for (int i = 0; i < assignments.Count; i++)
                assignments[i].Target.Assign(values[i], ctx);
            return ExecuteAll(body, ctx);
        });
    }
}

/// <summary>
/// A body rendered in its own scope. Used for Hugging Face's <c>{% generation %}</c> tag, which
/// only marks assistant text for masks and renders its body unchanged.
/// </summary>
internal sealed class ScopedBlockStatement(SourcePos pos, IReadOnlyList<Statement> body) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx) => ctx.InScope(new Scope(ctx.Scope), () =>
    {
        ExecuteAll(body, ctx);
        return Flow.Normal;
    });
}

/// <summary><c>{% break %}</c> or <c>{% continue %}</c> (jinja2's loopcontrols extension, which HF enables).</summary>
internal sealed class LoopControlStatement(SourcePos pos, Flow flow) : Statement(pos)
{
    protected override Flow Run(RenderContext ctx) => flow;
}
