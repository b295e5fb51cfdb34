namespace NotebookLens.Templates;

/// <summary>jinja2's built-in tests, used as <c>value is name(args)</c> and by select/reject.</summary>
internal static class BuiltinTests
{
    private delegate bool Test(object? value, CallArgs args);

    private static readonly Dictionary<string, Test> Table = new(StringComparer.Ordinal)
    {
        ["boolean"] = Is(v => v is bool),
        ["callable"] = Is(v => v is ICallable),
        ["defined"] = Is(v => v is not Undefined),
        ["divisibleby"] = (v, a) => IsZero(PyOps.Modulo(v, a.Bind("divisibleby", "num").Required(0))),
        ["eq"] = Compare((x, y) => PyOps.AreEqual(x, y)),
        ["equalto"] = Compare((x, y) => PyOps.AreEqual(x, y)),
        ["=="] = Compare((x, y) => PyOps.AreEqual(x, y)),
        ["even"] = (v, a) => NoArgs(a, "even") && IsZero(PyOps.Modulo(v, 2L)),
        ["false"] = Is(v => v is false),
        ["filter"] = Is(v => v is string name && BuiltinFilters.Exists(name)),
        ["float"] = Is(v => v is double),
        ["ge"] = Compare((x, y) => PyOps.Compare(x, y, ">=") >= 0),
        [">="] = Compare((x, y) => PyOps.Compare(x, y, ">=") >= 0),
        ["gt"] = Compare((x, y) => PyOps.Compare(x, y, ">") > 0),
        ["greaterthan"] = Compare((x, y) => PyOps.Compare(x, y, ">") > 0),
        [">"] = Compare((x, y) => PyOps.Compare(x, y, ">") > 0),
        ["in"] = (v, a) => PyOps.Contains(a.Bind("in", "seq").Required(0), v),
        ["integer"] = Is(v => v is long),
        // Undefined defines __iter__, so jinja2 considers it iterable.
        ["iterable"] = Is(v => v is string or PyList or PyDict or PyIterator or Undefined),
        ["le"] = Compare((x, y) => PyOps.Compare(x, y, "<=") <= 0),
        ["<="] = Compare((x, y) => PyOps.Compare(x, y, "<=") <= 0),
        ["lower"] = Is(v => PyText.IsCasedLower(PyRepr.Str(v))),
        ["lt"] = Compare((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["lessthan"] = Compare((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["<"] = Compare((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["mapping"] = Is(v => v is PyDict),
        ["ne"] = Compare((x, y) => !PyOps.AreEqual(x, y)),
        ["!="] = Compare((x, y) => !PyOps.AreEqual(x, y)),
        ["none"] = Is(v => v is null),
        ["number"] = Is(PyOps.IsNumber),
        ["odd"] = (v, a) => NoArgs(a, "odd") && !IsZero(PyOps.Modulo(v, 2L)),
        ["sameas"] = (v, a) => SameAs(v, a.Bind("sameas", "other").Required(0)),
        // Undefined has __len__ and __getitem__, so jinja2 considers it a sequence too.
        ["sequence"] = Is(v => v is string or PyList or PyDict or Undefined),
        ["string"] = Is(v => v is string),
        ["test"] = Is(v => v is string name && Table!.ContainsKey(name)),
        ["true"] = Is(v => v is true),
        ["undefined"] = Is(v => v is Undefined),
        ["upper"] = Is(v => PyText.IsCasedUpper(PyRepr.Str(v))),
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static bool Run(string name, object? value, CallArgs args, RenderContext ctx) =>
        Table.TryGetValue(name, out Test? test)
            ? test(value, args)
            : throw new TemplateRuntimeException($"unknown test '{name}'");

    private static Test Is(Func<object?, bool> predicate) => (v, a) => NoArgs(a, "test") && predicate(v);

    private static Test Compare(Func<object?, object?, bool> relation) => (v, a) => relation(v, a.Bind("test", "other").Required(0));

    private static bool NoArgs(CallArgs args, string name)
    {
        args.Bind(name);
        return true;
    }

    private static bool IsZero(object? number) => PyOps.AreEqual(number, 0L);

    /// <summary>Python's <c>is</c>: None/True/False and small ints are singletons; other values compare by reference.</summary>
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        _ => ReferenceEquals(a, b),
    };
}
