namespace NotebookLens.Templates;

/// <summary>Evaluated arguments of a call, filter or test: positional values then keyword values in source order.</summary>
internal sealed class CallArgs
{
    public static readonly CallArgs None = new([], []);

    public CallArgs(IReadOnlyList<object?> positional, IReadOnlyList<KeyValuePair<string, object?>> named)
    {
        Positional = positional;
        Named = named;
    }

    public IReadOnlyList<object?> Positional { get; }

    public IReadOnlyList<KeyValuePair<string, object?>> Named { get; }

    /// <summary>
    /// Binds the arguments to a Python-style signature (each parameter may be passed by position
    /// or by name), raising the error Python would for extra, unknown or repeated arguments.
    /// </summary>
    public BoundArgs Bind(string callee, params string[] parameters)
    {
        if (Positional.Count > parameters.Length)
            throw new TemplateRuntimeException($"{callee} takes at most {parameters.Length} argument(s) ({Positional.Count} given)");

        var values = new object?[parameters.Length];
        var given = new bool[parameters.Length];
        for (int i = 0; i < Positional.Count; i++)
        {
            values[i] = Positional[i];
            given[i] = true;
        }

        foreach ((string name, object? value) in Named)
        {
            int i = Array.IndexOf(parameters, name);
            if (i < 0)
                throw new TemplateRuntimeException($"{callee} got an unexpected keyword argument '{name}'");
            if (given[i])
                throw new TemplateRuntimeException($"{callee} got multiple values for argument '{name}'");
            values[i] = value;
            given[i] = true;
        }

        return new BoundArgs(callee, parameters, values, given);
    }

    /// <summary>Named arguments are not accepted (functions taking *args only).</summary>
    public void RejectNamed(string callee)
    {
        if (Named.Count > 0)
            throw new TemplateRuntimeException($"{callee} got an unexpected keyword argument '{Named[0].Key}'");
    }
}

/// <summary>Arguments matched to parameter names by <see cref="CallArgs.Bind"/>.</summary>
internal sealed class BoundArgs(string callee, string[] parameters, object?[] values, bool[] given)
{
    public bool Has(int index) => given[index];

    public object? Get(int index, object? fallback = null) => given[index] ? values[index] : fallback;

    public object? Required(int index) => given[index]
        ? values[index]
        : throw new TemplateRuntimeException($"{callee} missing required argument '{parameters[index]}'");
}
