namespace NotebookLens.Templates;

/// <summary>A <c>{% macro %}</c> (or the <c>caller</c> of a call block), bound to the scope it was defined in.</summary>
internal sealed class Macro(string name, IReadOnlyList<Parameter> parameters, IReadOnlyList<Statement> body, Scope closure) : ICallable
{
    public string Name => name;

    public object? Call(CallArgs args, RenderContext ctx)
    {
        if (args.Positional.Count > parameters.Count)
            throw new TemplateRuntimeException($"macro '{name}' takes not more than {parameters.Count} argument(s)");

        var scope = new Scope(closure);
        var given = new bool[parameters.Count];
        for (int i = 0; i < args.Positional.Count; i++)
        {
            scope.Set(parameters[i].Name, args.Positional[i]);
            given[i] = true;
        }

        foreach ((string key, object? value) in args.Named)
        {
            int i = IndexOf(key);
            if (i < 0 && key == "caller")
            {
                scope.Set(key, value);
                continue;
            }

            if (i < 0)
                throw new TemplateRuntimeException($"macro '{name}' takes no keyword argument '{key}'");
            if (given[i])
                throw new TemplateRuntimeException($"macro '{name}' got multiple values for argument '{key}'");
            scope.Set(key, value);
            given[i] = true;
        }

        return ctx.EnterCall($"macro '{name}'", () => ctx.InScope(scope, () =>
        {
            // Defaults are evaluated at call time inside the macro, so they may refer to earlier parameters.
            for (int i = 0; i < parameters.Count; i++)
            {
                if (!given[i])
                {
                    Parameter p = parameters[i];
                    scope.Set(p.Name, p.Default is { } d ? d.Evaluate(ctx) : Undefined.Because($"parameter '{p.Name}' was not provided"));
                }
            }

            return ctx.Capture(() => Statement.ExecuteAll(body, ctx));
        }));
    }

    private int IndexOf(string key)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Name == key)
                return i;
        }

        return -1;
    }
}

/// <summary>A macro parameter and its default value expression, if any.</summary>
internal sealed record Parameter(string Name, Expr? Default);
