namespace NotebookLens.Interactive;

/// <summary>Names that become C# variables (a loaded model's name, <c>--as VAR</c>) must be C# identifiers.</summary>
static class CSharpNames
{
    // C#'s reserved keywords: a variable cannot be called one of these (contextual keywords are allowed).
    static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    ];

    /// <param name="what">What the name is for, e.g. "a model name", to word the error.</param>
    public static void Check(string name, string what, string example)
    {
        var valid = name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_')
                    && name.All(c => char.IsLetterOrDigit(c) || c == '_') && !Keywords.Contains(name);
        if (!valid)
            throw new MagicException($"'{name}' cannot be {what}: it becomes a C# variable of that name.",
                $"Pick a C# identifier (letters, digits and '_', not starting with a digit, not a keyword), e.g. {example}");
    }
}
