namespace NotebookLens.Templates;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexed token. <see cref="Literal"/> holds the decoded value of string and number tokens.</summary>
internal sealed record Token(TokenKind Kind, string Text, SourcePos Pos, object? Literal = null)
{
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.Data => "template text",
        TokenKind.String => "string literal",
        _ => $"'{Text}'",
    };
}

/// <summary>1-based line and column in the (newline-normalised) template source.</summary>
internal readonly record struct SourcePos(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}
