namespace NotebookLens.Templates;

/// <summary>
/// Globals available to every template: jinja2's (range, dict, namespace, cycler, joiner) and
/// the two Hugging Face adds (raise_exception, strftime_now).
/// </summary>
internal static class BuiltinGlobals
{
    /// <summary>jinja2's sandbox refuses larger ranges (MAX_RANGE).</summary>
    private const long MaxRange = 100_000;

    public static Scope CreateScope()
    {
        var scope = new Scope(null);
        foreach (BuiltinFunction function in Functions())
            scope.Set(function.Name, function);
        return scope;
    }

    private static IEnumerable<BuiltinFunction> Functions()
    {
        yield return new BuiltinFunction("range", (args, _) => Range(args));
        yield return new BuiltinFunction("dict", (args, _) => Dict(args, "dict"));
        yield return new BuiltinFunction("namespace", (args, _) => Namespace(args));
        yield return new BuiltinFunction("cycler", (args, _) => Cycler(args));
        yield return new BuiltinFunction("joiner", (args, _) => Joiner(args));
        yield return new BuiltinFunction("raise_exception", (args, _) =>
            throw new TemplateRaisedException(PyRepr.Str(args.Bind("raise_exception", "message").Required(0))));
        yield return new BuiltinFunction("strftime_now", (args, ctx) =>
            PyStrftime.Format(ctx.Now, args.Bind("strftime_now", "format").Required(0) as string
                ?? throw new TemplateRuntimeException("strftime_now() argument must be str")));
    }

    private static PyList Range(CallArgs args)
    {
        args.RejectNamed("range");
        long[] n = args.Positional.Select(a => a is long or bool
            ? PyOps.ToLong(a)
            : throw new TemplateRuntimeException($"range() argument must be an integer, not '{PyRepr.TypeName(a)}'")).ToArray();
        (long start, long stop, long step) = n.Length switch
        {
            1 => (0, n[0], 1),
            2 => (n[0], n[1], 1),
            3 => (n[0], n[1], n[2]),
            _ => throw new TemplateRuntimeException($"range expected 1 to 3 arguments, got {n.Length}"),
        };
        if (step == 0)
            throw new TemplateRuntimeException("range() arg 3 must not be zero");
        long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        if (count > MaxRange)
            throw new TemplateRuntimeException($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
        var items = new List<object?>((int)count);
        for (long i = 0; i < count; i++)
            items.Add(start + i * step);
        return new PyList(items);
    }

    /// <summary>Python's <c>dict(mapping_or_pairs, **kwargs)</c>; also what namespace() builds its attributes from.</summary>
    private static PyDict Dict(CallArgs args, string name)
    {
        if (args.Positional.Count > 1)
            throw new TemplateRuntimeException($"{name} expected at most 1 positional argument, got {args.Positional.Count}");
        var dict = new PyDict();
        if (args.Positional.Count == 1)
        {
            switch (args.Positional[0])
            {
                case PyDict source:
                    foreach (KeyValuePair<object?, object?> kv in source.Items)
                        dict.Set(kv.Key, kv.Value);
                    break;
                case var pairs:
                    foreach (object? pair in PyOps.Iterate(pairs))
                    {
                        List<object?> kv = PyOps.Iterate(pair);
                        if (kv.Count != 2)
                            throw new TemplateRuntimeException($"{name} update sequence element has length {kv.Count}; 2 is required");
                        dict.Set(kv[0], kv[1]);
                    }

                    break;
            }
        }

        foreach ((string key, object? value) in args.Named)
            dict.Set(key, value);
        return dict;
    }

    private static Namespace Namespace(CallArgs args)
    {
        var ns = new Namespace();
        foreach (KeyValuePair<object?, object?> kv in Dict(args, "namespace").Items)
            ns.Attributes.Set(kv.Key, kv.Value);
        return ns;
    }

    private static Cycler Cycler(CallArgs args)
    {
        args.RejectNamed("cycler");
        if (args.Positional.Count == 0)
            throw new TemplateRuntimeException("at least one item has to be provided");
        return new Cycler(args.Positional);
    }

    /// <summary>jinja2's <c>joiner(sep)</c>: a callable returning "" the first time and sep afterwards.</summary>
    private static BuiltinFunction Joiner(CallArgs args)
    {
        string separator = PyRepr.Str(args.Bind("joiner", "sep").Get(0, ", "));
        bool used = false;
        return new BuiltinFunction("joiner", (_, _) =>
        {
            if (used)
                return separator;
            used = true;
            return "";
        });
    }
}
