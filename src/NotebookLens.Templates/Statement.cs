namespace NotebookLens.Templates;

/// <summary>How a statement finished: normally, or by <c>break</c>/<c>continue</c> travelling up to its loop.</summary>
internal enum Flow
{
    Normal,
    Break,
    Continue,
}

/// <summary>A statement node. Runtime errors raised while running it are stamped with its position.</summary>
internal abstract class Statement(SourcePos pos)
{
    public SourcePos Pos => pos;

    public static Flow ExecuteAll(IReadOnlyList<Statement> body, RenderContext ctx)
    {
        foreach (Statement statement in body)
        {
            Flow flow = statement.Execute(ctx);
            if (flow != Flow.Normal)
                return flow;
        }

        return Flow.Normal;
    }

    public Flow Execute(RenderContext ctx)
    {
        try
        {
            RenderContext.GuardStack();
            return Run(ctx);
        }
        catch (TemplateRuntimeException e) when (!e.IsLocated)
        {
            throw Located.At(e, pos);
        }
    }

    protected abstract Flow Run(RenderContext ctx);
}

/// <summary>Where <c>set</c>, <c>for</c> and <c>with</c> put values: a name, a tuple of targets, or <c>ns.attr</c>.</summary>
internal abstract class AssignTarget
{
    public abstract void Assign(object? value, RenderContext ctx);
}

internal sealed class NameTarget(string name) : AssignTarget
{
    public override void Assign(object? value, RenderContext ctx) => ctx.Scope.Set(name, value);
}

/// <summary><c>a, b = ...</c>: unpacks an iterable of exactly matching length, as Python does.</summary>
internal sealed class TupleTarget(IReadOnlyList<AssignTarget> targets) : AssignTarget
{
    public override void Assign(object? value, RenderContext ctx)
    {
        List<object?> items = value is Undefined u ? throw new TemplateRuntimeException(u.Message) : PyOps.Iterate(value);
        if (items.Count > targets.Count)
            throw new TemplateRuntimeException($"too many values to unpack (expected {targets.Count})");
        if (items.Count < targets.Count)
            throw new TemplateRuntimeException($"not enough values to unpack (expected {targets.Count}, got {items.Count})");
        for (int i = 0; i < targets.Count; i++)
            targets[i].Assign(items[i], ctx);
    }
}

/// <summary><c>set ns.attr = ...</c>, allowed only on <c>namespace()</c> objects.</summary>
internal sealed class NamespaceTarget(string name, string attribute) : AssignTarget
{
    public override void Assign(object? value, RenderContext ctx)
    {
        if (!ctx.Scope.TryGet(name, out object? obj) || obj is not Namespace ns)
            throw new TemplateRuntimeException($"cannot assign attribute '{attribute}' on '{name}': it is not a namespace() object");
        ns.Attributes.Set(attribute, value);
    }
}
