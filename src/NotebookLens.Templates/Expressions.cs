namespace NotebookLens.Templates;

internal sealed class LiteralExpr(SourcePos pos, object? value) : Expr(pos)
{
    public override string Describe() => PyRepr.Repr(value);

    protected override object? Eval(RenderContext ctx) => value;
}

/// <summary>A list literal, or a tuple (<c>(a, b)</c>, or bare <c>a, b</c> where jinja2 allows it).</summary>
internal sealed class ListExpr(SourcePos pos, IReadOnlyList<Expr> items, bool isTuple) : Expr(pos)
{
    public IReadOnlyList<Expr> Items => items;

    public bool IsTuple => isTuple;

    public override string Describe()
    {
        string inner = string.Join(", ", items.Select(i => i.Describe()));
        return isTuple ? $"({inner})" : $"[{inner}]";
    }

    protected override object? Eval(RenderContext ctx) => new PyList(items.Select(i => i.Evaluate(ctx)).ToList(), isTuple);
}

internal sealed class DictExpr(SourcePos pos, IReadOnlyList<(Expr Key, Expr Value)> pairs) : Expr(pos)
{
    public override string Describe() => "{" + string.Join(", ", pairs.Select(p => $"{p.Key.Describe()}: {p.Value.Describe()}")) + "}";

    protected override object? Eval(RenderContext ctx)
    {
        var dict = new PyDict();
        foreach ((Expr key, Expr value) in pairs)
            dict.Set(key.Evaluate(ctx), value.Evaluate(ctx));
        return dict;
    }
}

internal sealed class NameExpr(SourcePos pos, string name) : Expr(pos)
{
    public string Name => name;

    public override string Describe() => name;

    protected override object? Eval(RenderContext ctx) =>
        ctx.Scope.TryGet(name, out object? value) ? value : Undefined.Variable(name);
}

/// <summary><c>target.name</c>.</summary>
internal sealed class AttributeExpr(SourcePos pos, Expr target, string name) : Expr(pos)
{
    public override string Describe() => $"{target.Describe()}.{name}";

    protected override object? Eval(RenderContext ctx)
    {
        object? obj = target.Evaluate(ctx);
        if (obj is Undefined u)
            throw new TemplateRuntimeException($"cannot read attribute '{name}' of '{target.Describe()}': {u.Message}");
        return PyAccess.GetAttr(obj, name);
    }
}

/// <summary><c>target[index]</c>.</summary>
internal sealed class IndexExpr(SourcePos pos, Expr target, Expr index) : Expr(pos)
{
    public override string Describe() => $"{target.Describe()}[{index.Describe()}]";

    protected override object? Eval(RenderContext ctx)
    {
        object? obj = target.Evaluate(ctx);
        if (obj is Undefined u)
            throw new TemplateRuntimeException($"cannot read item {index.Describe()} of '{target.Describe()}': {u.Message}");
        return PyAccess.GetItem(obj, index.Evaluate(ctx));
    }
}

/// <summary><c>target[start:stop:step]</c>.</summary>
internal sealed class SliceExpr(SourcePos pos, Expr target, Expr? start, Expr? stop, Expr? step) : Expr(pos)
{
    public override string Describe() =>
        $"{target.Describe()}[{start?.Describe()}:{stop?.Describe()}{(step is null ? "" : ":" + step.Describe())}]";

    protected override object? Eval(RenderContext ctx)
    {
        object? obj = target.Evaluate(ctx);
        if (obj is Undefined u)
            throw new TemplateRuntimeException($"cannot slice '{target.Describe()}': {u.Message}");
        object? a = start?.Evaluate(ctx);
        object? b = stop?.Evaluate(ctx);
        object? c = step?.Evaluate(ctx);
        if (!IsIndex(a) || !IsIndex(b) || !IsIndex(c))
            return Undefined.Because("slice indices must be integers or None");
        return PyAccess.Slice(obj, ToIndex(a), ToIndex(b), ToIndex(c));
    }

    private static bool IsIndex(object? v) => v is null or long or bool;

    private static long? ToIndex(object? v) => v is null ? null : PyOps.ToLong(v);
}

/// <summary>Positional and keyword argument expressions of a call, filter or test.</summary>
internal sealed class ArgExprs(IReadOnlyList<Expr> positional, IReadOnlyList<(string Name, Expr Value)> named)
{
    public static readonly ArgExprs None = new([], []);

    public CallArgs Evaluate(RenderContext ctx) => new(
        positional.Select(a => a.Evaluate(ctx)).ToList(),
        named.Select(n => new KeyValuePair<string, object?>(n.Name, n.Value.Evaluate(ctx))).ToList());

    public string Describe() =>
        string.Join(", ", positional.Select(a => a.Describe()).Concat(named.Select(n => $"{n.Name}={n.Value.Describe()}")));
}

internal sealed class CallExpr(SourcePos pos, Expr callee, ArgExprs args) : Expr(pos)
{
    public override string Describe() => $"{callee.Describe()}({args.Describe()})";

    /// <summary>Calls with an extra keyword argument; call blocks pass <c>caller</c> this way.</summary>
    public object? Invoke(RenderContext ctx, KeyValuePair<string, object?>? extra)
    {
        object? function = callee.Evaluate(ctx);
        CallArgs values = args.Evaluate(ctx);
        if (extra is { } e)
            values = new CallArgs(values.Positional, [.. values.Named, e]);
        return function switch
        {
            ICallable c => c.Call(values, ctx),
            Undefined u => throw new TemplateRuntimeException($"cannot call '{callee.Describe()}': {u.Message}"),
            _ => throw new TemplateRuntimeException($"'{callee.Describe()}' is a '{PyRepr.TypeName(function)}' object, which is not callable"),
        };
    }

    protected override object? Eval(RenderContext ctx) => Invoke(ctx, null);
}

/// <summary>One filter application <c>| name(args)</c>; also used bare by filter blocks and block sets.</summary>
internal sealed class FilterCall(SourcePos pos, string name, ArgExprs args)
{
    public string Describe() => name + (args == ArgExprs.None ? "" : $"({args.Describe()})");

    public object? Apply(object? value, RenderContext ctx)
    {
        try
        {
            return BuiltinFilters.Apply(name, value, args.Evaluate(ctx), ctx);
        }
        catch (TemplateRuntimeException e) when (!e.IsLocated)
        {
            throw Located.At(new TemplateRuntimeException($"filter '{name}': {e.Message}", e), pos);
        }
    }
}

internal sealed class FilterExpr(SourcePos pos, Expr input, FilterCall filter) : Expr(pos)
{
    public override string Describe() => $"{input.Describe()} | {filter.Describe()}";

    protected override object? Eval(RenderContext ctx) => filter.Apply(input.Evaluate(ctx), ctx);
}

/// <summary><c>value is [not] name(args)</c>.</summary>
internal sealed class TestExpr(SourcePos pos, Expr input, string name, ArgExprs args, bool negated) : Expr(pos)
{
    public override string Describe() => $"{input.Describe()} is {(negated ? "not " : "")}{name}";

    protected override object? Eval(RenderContext ctx)
    {
        object? value = input.Evaluate(ctx);
        try
        {
            return BuiltinTests.Run(name, value, args.Evaluate(ctx), ctx) != negated;
        }
        catch (TemplateRuntimeException e) when (!e.IsLocated)
        {
            throw new TemplateRuntimeException($"test '{name}': {e.Message}", e);
        }
    }
}

internal sealed class NotExpr(SourcePos pos, Expr operand) : Expr(pos)
{
    public override string Describe() => $"not {operand.Describe()}";

    protected override object? Eval(RenderContext ctx) => !PyOps.IsTrue(operand.Evaluate(ctx));
}

/// <summary>Unary <c>-x</c> or <c>+x</c>.</summary>
internal sealed class SignExpr(SourcePos pos, bool negative, Expr operand) : Expr(pos)
{
    public override string Describe() => (negative ? "-" : "+") + operand.Describe();

    protected override object? Eval(RenderContext ctx)
    {
        object? value = operand.Evaluate(ctx);
        return negative ? PyOps.Negate(value) : PyOps.Plus(value);
    }
}

/// <summary>Arithmetic: <c>+ - * / // % **</c>.</summary>
internal sealed class BinaryExpr(SourcePos pos, string op, Expr left, Expr right) : Expr(pos)
{
    public override string Describe() => $"{left.Describe()} {op} {right.Describe()}";

    protected override object? Eval(RenderContext ctx)
    {
        object? a = left.Evaluate(ctx);
        object? b = right.Evaluate(ctx);
        return op switch
        {
            "+" => PyOps.Add(a, b),
            "-" => PyOps.Subtract(a, b),
            "*" => PyOps.Multiply(a, b),
            "/" => PyOps.Divide(a, b),
            "//" => PyOps.FloorDivide(a, b),
            "%" => PyOps.Modulo(a, b),
            "**" => PyOps.Power(a, b),
            _ => throw new InvalidOperationException($"parser produced unknown operator {op}"),
        };
    }
}

/// <summary><c>a ~ b ~ c</c>: joins the <c>str()</c> of each part.</summary>
internal sealed class ConcatExpr(SourcePos pos, IReadOnlyList<Expr> parts) : Expr(pos)
{
    public override string Describe() => string.Join(" ~ ", parts.Select(p => p.Describe()));

    protected override object? Eval(RenderContext ctx) => string.Concat(parts.Select(p => PyRepr.Str(p.Evaluate(ctx))));
}

/// <summary><c>and</c>/<c>or</c>, which short-circuit and return an operand, as in Python.</summary>
internal sealed class LogicalExpr(SourcePos pos, bool isAnd, Expr left, Expr right) : Expr(pos)
{
    public override string Describe() => $"{left.Describe()} {(isAnd ? "and" : "or")} {right.Describe()}";

    protected override object? Eval(RenderContext ctx)
    {
        object? a = left.Evaluate(ctx);
        return PyOps.IsTrue(a) == isAnd ? right.Evaluate(ctx) : a;
    }
}

/// <summary>A (possibly chained) comparison such as <c>a &lt; b &lt;= c</c> or <c>x not in y</c>.</summary>
internal sealed class CompareExpr(SourcePos pos, Expr first, IReadOnlyList<(string Op, Expr Operand)> rest) : Expr(pos)
{
    public override string Describe() => first.Describe() + string.Concat(rest.Select(r => $" {r.Op} {r.Operand.Describe()}"));

    protected override object? Eval(RenderContext ctx)
    {
        object? left = first.Evaluate(ctx);
        foreach ((string op, Expr operand) in rest)
        {
            object? right = operand.Evaluate(ctx);
            if (!Holds(op, left, right))
                return false;
            left = right;
        }

        return true;
    }

    private static bool Holds(string op, object? a, object? b) => op switch
    {
        "==" => PyOps.AreEqual(a, b),
        "!=" => !PyOps.AreEqual(a, b),
        "<" => PyOps.Compare(a, b, op) < 0,
        "<=" => PyOps.Compare(a, b, op) <= 0,
        ">" => PyOps.Compare(a, b, op) > 0,
        ">=" => PyOps.Compare(a, b, op) >= 0,
        "in" => PyOps.Contains(b, a),
        "not in" => !PyOps.Contains(b, a),
        _ => throw new InvalidOperationException($"parser produced unknown comparison {op}"),
    };
}

/// <summary><c>then if test else otherwise</c>; without else a false test yields Undefined.</summary>
internal sealed class ConditionalExpr(SourcePos pos, Expr test, Expr then, Expr? otherwise) : Expr(pos)
{
    public override string Describe() =>
        $"{then.Describe()} if {test.Describe()}" + (otherwise is null ? "" : $" else {otherwise.Describe()}");

    protected override object? Eval(RenderContext ctx)
    {
        if (PyOps.IsTrue(test.Evaluate(ctx)))
            return then.Evaluate(ctx);
        return otherwise is null
            ? Undefined.Because($"the inline if-expression on {Pos} evaluated to false and no else section was defined")
            : otherwise.Evaluate(ctx);
    }
}
