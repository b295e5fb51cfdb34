namespace NotebookLens.Templates;

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopContext(List<object?> items)
{
    private static readonly object NothingSeen = new();

    private object? _lastChanged = NothingSeen;

    public int Index0 { get; set; }

    public int Length => items.Count;

    public bool TryGetAttribute(string name, out object? value)
    {
        value = name switch
        {
            "index" => (long)Index0 + 1,
            "index0" => (long)Index0,
            "revindex" => (long)(Length - Index0),
            "revindex0" => (long)(Length - Index0 - 1),
            "first" => Index0 == 0,
            "last" => Index0 == Length - 1,
            "length" => (long)Length,
            "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Because("there is no previous item"),
            "nextitem" => Index0 < Length - 1 ? items[Index0 + 1] : Undefined.Because("there is no next item"),
            // Only recursive loops (not supported) nest deeper than 1.
            "depth" => 1L,
            "depth0" => 0L,
            "cycle" => new BuiltinFunction("loop.cycle", (args, _) => Cycle(args)),
            "changed" => new BuiltinFunction("loop.changed", (args, _) => Changed(args)),
            _ => NothingSeen,
        };
        if (value != NothingSeen)
            return true;
        value = null;
        return false;
    }

    private object? Cycle(CallArgs args)
    {
        args.RejectNamed("loop.cycle");
        if (args.Positional.Count == 0)
            throw new TemplateRuntimeException("no items for cycling given");
        return args.Positional[Index0 % args.Positional.Count];
    }

    private bool Changed(CallArgs args)
    {
        var current = new PyList([.. args.Positional], isTuple: true);
        if (_lastChanged != NothingSeen && PyOps.AreEqual(_lastChanged, current))
            return false;
        _lastChanged = current;
        return true;
    }
}
