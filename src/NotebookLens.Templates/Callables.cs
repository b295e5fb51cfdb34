namespace NotebookLens.Templates;

/// <summary>Anything a template can call: macros, globals, methods of values.</summary>
internal interface ICallable
{
    object? Call(CallArgs args, RenderContext ctx);
}

/// <summary>A global function such as <c>range</c> or <c>raise_exception</c>, or a helper like <c>loop.cycle</c>.</summary>
internal sealed class BuiltinFunction(string name, Func<CallArgs, RenderContext, object?> body) : ICallable
{
    public string Name => name;

    public object? Call(CallArgs args, RenderContext ctx) => body(args, ctx);
}

/// <summary>A method looked up on a value (<c>s.strip</c>, <c>d.items</c>), called later.</summary>
internal sealed class BoundMethod(object target, string name) : ICallable
{
    public object? Call(CallArgs args, RenderContext ctx) => BuiltinMethods.Call(target, name, args);
}
