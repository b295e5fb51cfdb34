namespace NotebookLens.Templates;

/// <summary>
/// Recursive-descent parser following jinja2's grammar and precedence: conditional expressions,
/// then or, and, not, comparisons, + -, ~, * / // %, **, unary minus, and finally postfix
/// access/calls with filters and tests binding tighter than any operator.
/// </summary>
internal sealed class Parser
{
    /// <summary>Deepest nesting of expressions and blocks accepted, so hostile input cannot overflow the stack.</summary>
    private const int MaxNesting = 150;

    private static readonly string[] CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private static readonly HashSet<string> UnsupportedTags =
        ["include", "import", "from", "extends", "block", "autoescape", "do", "trans", "pluralize", "endblock"];

    private readonly List<Token> _tokens;
    private int _index;
    private int _loopDepth;
    private int _nesting;

    private Parser(List<Token> tokens) => _tokens = tokens;

    private Token Current => _tokens[_index];

    public static IReadOnlyList<Statement> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        return parser.ParseBody([], null);
    }

    private Token Peek() => _tokens[Math.Min(_index + 1, _tokens.Count - 1)];

    private Token Next() => _tokens[_index++];

    private bool IsOp(string op) => Current.IsOperator(op);

    private Token Expect(TokenKind kind, string what)
    {
        if (Current.Kind != kind)
            throw Fail($"expected {what}, got {Current.Describe()}");
        return Next();
    }

    private void ExpectOp(string op)
    {
        if (!IsOp(op))
            throw Fail($"expected '{op}', got {Current.Describe()}");
        Next();
    }

    private void ExpectBlockEnd(string statement)
    {
        if (Current.Kind != TokenKind.BlockEnd)
            throw Fail($"expected '%}}' to end '{statement}', got {Current.Describe()}");
        Next();
    }

    private TemplateSyntaxException Fail(string message, Token? at = null) => new($"{message} at {(at ?? Current).Pos}");

    /// <summary>
    /// Parses statements until one of <paramref name="endTags"/> opens a block tag; returns with
    /// the current token on that tag's name, so the caller decides what follows.
    /// </summary>
    private List<Statement> ParseBody(string[] endTags, Token? opener)
    {
        var body = new List<Statement>();
        while (true)
        {
            Token token = Current;
            switch (token.Kind)
            {
                case TokenKind.End:
                    if (opener is not null)
                        throw Fail($"unexpected end of template: '{opener.Text}' opened at {opener.Pos} was never closed (expected {string.Join(" or ", endTags.Select(t => $"'{t}'"))})");
                    return body;
                case TokenKind.Data:
                    body.Add(new TextStatement(token.Pos, token.Text));
                    Next();
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    Expr expr = ParseTuple();
                    Expect(TokenKind.VariableEnd, "'}}'");
                    body.Add(new OutputStatement(token.Pos, expr));
                    break;
                case TokenKind.BlockBegin:
                    Next();
                    if (Current.Kind == TokenKind.Name && endTags.Contains(Current.Text))
                        return body;
                    body.Add(ParseStatement());
                    break;
                default:
                    throw Fail($"unexpected {token.Describe()}");
            }
        }
    }

    private Statement ParseStatement()
    {
        Token tag = Current;
        if (tag.Kind != TokenKind.Name)
            throw Fail($"expected a statement name after '{{%', got {tag.Describe()}");

        Enter();
        Statement statement = tag.Text switch
        {
            "if" => ParseIf(),
            "for" => ParseFor(),
            "set" => ParseSet(),
            "macro" => ParseMacro(),
            "call" => ParseCallBlock(),
            "filter" => ParseFilterBlock(),
            "with" => ParseWith(),
            "print" => ParsePrint(),
            "break" or "continue" => ParseLoopControl(),
            "generation" => ParseGeneration(),
            _ when UnsupportedTags.Contains(tag.Text) => throw Fail($"unsupported statement '{tag.Text}'"),
            _ when tag.Text.StartsWith("end", StringComparison.Ordinal) || tag.Text is "else" or "elif" =>
                throw Fail($"unexpected '{tag.Text}': no open block expects it here"),
            _ => throw Fail($"unknown statement '{tag.Text}'"),
        };
        _nesting--;
        return statement;
    }

    private Statement ParseIf()
    {
        Token opener = Next();
        var branches = new List<(Expr, IReadOnlyList<Statement>)>();
        List<Statement> otherwise = [];
        while (true)
        {
            Expr test = ParseTuple(withCondExpr: false);
            ExpectBlockEnd("if");
            branches.Add((test, ParseBody(["elif", "else", "endif"], opener)));
            Token end = Next();
            if (end.Text == "elif")
                continue;
            if (end.Text == "else")
            {
                ExpectBlockEnd("else");
                otherwise = ParseBody(["endif"], opener);
                Next();
            }

            ExpectBlockEnd("endif");
            return new IfStatement(opener.Pos, branches, otherwise);
        }
    }

    private Statement ParseFor()
    {
        Token opener = Next();
        AssignTarget target = ParseAssignTarget(extraEndRules: ["in"]);
        if (!Current.IsName("in"))
            throw Fail($"expected 'in' in for loop, got {Current.Describe()}");
        Next();
        Expr iterable = ParseTuple(withCondExpr: false, extraEndRules: ["recursive"]);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            Next();
            filter = ParseExpression();
        }

        if (Current.IsName("recursive"))
            throw Fail("unsupported: recursive for loops");
        ExpectBlockEnd("for");

        _loopDepth++;
        List<Statement> body = ParseBody(["endfor", "else"], opener);
        _loopDepth--;
        List<Statement> otherwise = [];
        if (Next().Text == "else")
        {
            ExpectBlockEnd("else");
            otherwise = ParseBody(["endfor"], opener);
            Next();
        }

        ExpectBlockEnd("endfor");
        return new ForStatement(opener.Pos, target, iterable, filter, body, otherwise);
    }

    private Statement ParseSet()
    {
        Token opener = Next();
        AssignTarget target = ParseAssignTarget(withNamespace: true);
        if (IsOp("="))
        {
            Next();
            Expr value = ParseTuple();
            ExpectBlockEnd("set");
            return new SetStatement(opener.Pos, target, value);
        }

        List<FilterCall> filters = IsOp("|") ? ParseFilterChain(startInline: false) : [];
        ExpectBlockEnd("set");
        List<Statement> body = ParseIsolatedBody(["endset"], opener);
        ExpectBlockEnd("endset");
        return new SetBlockStatement(opener.Pos, target, filters, body);
    }

    private Statement ParseMacro()
    {
        Token opener = Next();
        string name = Expect(TokenKind.Name, "macro name").Text;
        List<Parameter> parameters = ParseSignature();
        ExpectBlockEnd("macro");
        List<Statement> body = ParseIsolatedBody(["endmacro"], opener);
        ExpectBlockEnd("endmacro");
        return new MacroStatement(opener.Pos, name, parameters, body);
    }

    private Statement ParseCallBlock()
    {
        Token opener = Next();
        List<Parameter> parameters = IsOp("(") ? ParseSignature() : [];
        if (ParseExpression() is not CallExpr call)
            throw Fail("expected a macro call after 'call'", opener);
        ExpectBlockEnd("call");
        List<Statement> body = ParseIsolatedBody(["endcall"], opener);
        ExpectBlockEnd("endcall");
        return new CallBlockStatement(opener.Pos, call, parameters, body);
    }

    private Statement ParseFilterBlock()
    {
        Token opener = Next();
        List<FilterCall> filters = ParseFilterChain(startInline: true);
        ExpectBlockEnd("filter");
        List<Statement> body = ParseIsolatedBody(["endfilter"], opener);
        ExpectBlockEnd("endfilter");
        return new FilterBlockStatement(opener.Pos, filters, body);
    }

    private Statement ParseWith()
    {
        Token opener = Next();
        var assignments = new List<(AssignTarget, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0)
                ExpectOp(",");
            AssignTarget target = ParseAssignTarget();
            ExpectOp("=");
            assignments.Add((target, ParseExpression()));
        }

        Next();
        List<Statement> body = ParseBody(["endwith"], opener);
        Next();
        ExpectBlockEnd("endwith");
        return new WithStatement(opener.Pos, assignments, body);
    }

    private Statement ParsePrint()
    {
        Token opener = Next();
        Expr expr = ParseTuple();
        ExpectBlockEnd("print");
        return new OutputStatement(opener.Pos, expr);
    }

    private Statement ParseLoopControl()
    {
        Token tag = Next();
        if (_loopDepth == 0)
            throw Fail($"'{tag.Text}' outside of a for loop", tag);
        ExpectBlockEnd(tag.Text);
        return new LoopControlStatement(tag.Pos, tag.Text == "break" ? Flow.Break : Flow.Continue);
    }

    private Statement ParseGeneration()
    {
        Token opener = Next();
        ExpectBlockEnd("generation");
        List<Statement> body = ParseIsolatedBody(["endgeneration"], opener);
        ExpectBlockEnd("endgeneration");
        return new ScopedBlockStatement(opener.Pos, body);
    }

    /// <summary>
    /// A body compiled by jinja2 as a separate function (macro, call, filter and set blocks):
    /// break/continue inside cannot reach an enclosing loop. Consumes the end tag's name.
    /// </summary>
    private List<Statement> ParseIsolatedBody(string[] endTags, Token opener)
    {
        int savedLoopDepth = _loopDepth;
        _loopDepth = 0;
        List<Statement> body = ParseBody(endTags, opener);
        _loopDepth = savedLoopDepth;
        Next();
        return body;
    }

    private List<Parameter> ParseSignature()
    {
        ExpectOp("(");
        var parameters = new List<Parameter>();
        while (!IsOp(")"))
        {
            if (parameters.Count > 0)
                ExpectOp(",");
            Token name = Expect(TokenKind.Name, "parameter name");
            Expr? fallback = null;
            if (IsOp("="))
            {
                Next();
                fallback = ParseExpression();
            }
            else if (parameters.Count > 0 && parameters[^1].Default is not null)
            {
                throw Fail("non-default argument follows default argument", name);
            }

            parameters.Add(new Parameter(name.Text, fallback));
        }

        Next();
        return parameters;
    }

    private AssignTarget ParseAssignTarget(string[]? extraEndRules = null, bool withNamespace = false)
    {
        if (withNamespace && Current.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            string name = Next().Text;
            Next();
            return new NamespaceTarget(name, Expect(TokenKind.Name, "attribute name").Text);
        }

        Token start = Current;
        return ToTarget(ParseTuple(simplified: true, extraEndRules: extraEndRules), start);
    }

    private AssignTarget ToTarget(Expr expr, Token at) => expr switch
    {
        NameExpr name when name.Name is not ("true" or "false" or "none" or "True" or "False" or "None") => new NameTarget(name.Name),
        ListExpr { IsTuple: true } tuple => new TupleTarget(tuple.Items.Select(i => ToTarget(i, at)).ToList()),
        _ => throw Fail($"cannot assign to '{expr.Describe()}'", at),
    };

    // ---- expressions -------------------------------------------------------------------------

    private Expr ParseTuple(bool simplified = false, bool withCondExpr = true, string[]? extraEndRules = null, bool explicitParentheses = false)
    {
        Token start = Current;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0)
                ExpectOp(",");
            if (IsTupleEnd(extraEndRules))
                break;
            items.Add(simplified ? ParsePrimary() : ParseExpression(withCondExpr));
            if (IsOp(","))
                isTuple = true;
            else
                break;
        }

        if (!isTuple)
        {
            if (items.Count > 0)
                return items[0];
            if (!explicitParentheses)
                throw Fail($"expected an expression, got {Current.Describe()}");
        }

        return new ListExpr(start.Pos, items, isTuple: true);
    }

    private bool IsTupleEnd(string[]? extraEndRules) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End
        || IsOp(")")
        || (extraEndRules is not null && Current.Kind == TokenKind.Name && extraEndRules.Contains(Current.Text));

    private Expr ParseExpression(bool withCondExpr = true) => withCondExpr ? ParseConditional() : ParseOr();

    private Expr ParseConditional()
    {
        Enter();
        Expr expr = ParseOr();
        while (Current.IsName("if"))
        {
            Token token = Next();
            Expr test = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                Next();
                otherwise = ParseConditional();
            }

            expr = new ConditionalExpr(token.Pos, test, expr, otherwise);
        }

        _nesting--;
        return expr;
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (Current.IsName("or"))
        {
            Token token = Next();
            left = new LogicalExpr(token.Pos, isAnd: false, left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (Current.IsName("and"))
        {
            Token token = Next();
            left = new LogicalExpr(token.Pos, isAnd: true, left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (!Current.IsName("not"))
            return ParseCompare();
        Token token = Next();
        Enter();
        Expr operand = ParseNot();
        _nesting--;
        return new NotExpr(token.Pos, operand);
    }

    private Expr ParseCompare()
    {
        Token start = Current;
        Expr first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOperators.Contains(Current.Text))
            {
                rest.Add((Next().Text, ParseMath1()));
            }
            else if (Current.IsName("in"))
            {
                Next();
                rest.Add(("in", ParseMath1()));
            }
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                Next();
                Next();
                rest.Add(("not in", ParseMath1()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(start.Pos, first, rest);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        while (IsOp("+") || IsOp("-"))
        {
            Token op = Next();
            left = new BinaryExpr(op.Pos, op.Text, left, ParseConcat());
        }

        return left;
    }

    private Expr ParseConcat()
    {
        Token start = Current;
        var parts = new List<Expr> { ParseMath2() };
        while (IsOp("~"))
        {
            Next();
            parts.Add(ParseMath2());
        }

        return parts.Count == 1 ? parts[0] : new ConcatExpr(start.Pos, parts);
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
        {
            Token op = Next();
            left = new BinaryExpr(op.Pos, op.Text, left, ParsePow());
        }

        return left;
    }

    // jinja2 makes ** left-associative, unlike Python: 2 ** 3 ** 2 == 64.
    private Expr ParsePow()
    {
        Expr left = ParseUnary();
        while (IsOp("**"))
        {
            Token op = Next();
            left = new BinaryExpr(op.Pos, op.Text, left, ParseUnary());
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        Enter();
        Expr node;
        if (IsOp("-") || IsOp("+"))
        {
            Token op = Next();
            node = new SignExpr(op.Pos, op.Text == "-", ParseUnary(withFilter: false));
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        if (withFilter)
            node = ParseFilterAndTest(node);
        _nesting--;
        return node;
    }

    private Expr ParsePrimary()
    {
        Token token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                Next();
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpr(token.Pos, true),
                    "false" or "False" => new LiteralExpr(token.Pos, false),
                    "none" or "None" => new LiteralExpr(token.Pos, null),
                    _ => new NameExpr(token.Pos, token.Text),
                };
            case TokenKind.String:
                // Adjacent string literals concatenate, as in Python.
                string text = "";
                while (Current.Kind == TokenKind.String)
                    text += (string)Next().Literal!;
                return new LiteralExpr(token.Pos, text);
            case TokenKind.Integer:
            case TokenKind.Float:
                Next();
                return new LiteralExpr(token.Pos, token.Literal);
        }

        if (IsOp("("))
        {
            Next();
            Enter();
            Expr inner = ParseTuple(explicitParentheses: true);
            _nesting--;
            ExpectOp(")");
            return inner;
        }

        if (IsOp("["))
            return ParseList();
        if (IsOp("{"))
            return ParseDict();
        throw Fail($"unexpected {token.Describe()}");
    }

    private Expr ParseList()
    {
        Token start = Next();
        var items = new List<Expr>();
        while (!IsOp("]"))
        {
            if (items.Count > 0)
                ExpectOp(",");
            if (IsOp("]"))
                break;
            items.Add(ParseExpression());
        }

        Next();
        return new ListExpr(start.Pos, items, isTuple: false);
    }

    private Expr ParseDict()
    {
        Token start = Next();
        var pairs = new List<(Expr, Expr)>();
        while (!IsOp("}"))
        {
            if (pairs.Count > 0)
                ExpectOp(",");
            if (IsOp("}"))
                break;
            Expr key = ParseExpression();
            ExpectOp(":");
            pairs.Add((key, ParseExpression()));
        }

        Next();
        return new DictExpr(start.Pos, pairs);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (IsOp(".") || IsOp("["))
                node = ParseSubscript(node);
            else if (IsOp("("))
                node = ParseCall(node);
            else
                return node;
        }
    }

    private Expr ParseFilterAndTest(Expr node)
    {
        while (true)
        {
            if (IsOp("|"))
            {
                Token pipe = Next();
                node = new FilterExpr(pipe.Pos, node, ParseFilterCall());
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node);
            }
            else if (IsOp("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        Token token = Next();
        if (token.Text == ".")
        {
            Token attr = Next();
            if (attr.Kind == TokenKind.Name)
                return new AttributeExpr(token.Pos, node, attr.Text);
            if (attr.Kind == TokenKind.Integer)
                return new IndexExpr(token.Pos, node, new LiteralExpr(attr.Pos, attr.Literal));
            throw Fail($"expected an attribute name after '.', got {attr.Describe()}", attr);
        }

        var keys = new List<Expr>();
        SliceParts? slice = null;
        while (!IsOp("]"))
        {
            if (keys.Count > 0 || slice is not null)
                ExpectOp(",");
            (Expr? key, SliceParts? parts) = ParseSubscribed();
            if (parts is not null && (slice is not null || keys.Count > 0))
                throw Fail("unsupported: slices inside a tuple subscript", token);
            if (key is not null)
                keys.Add(key);
            slice ??= parts;
        }

        Next();
        if (slice is not null)
        {
            if (keys.Count > 0)
                throw Fail("unsupported: slices inside a tuple subscript", token);
            return new SliceExpr(token.Pos, node, slice.Start, slice.Stop, slice.Step);
        }

        return keys.Count switch
        {
            0 => throw Fail("expected a subscript expression inside '[]'", token),
            1 => new IndexExpr(token.Pos, node, keys[0]),
            _ => new IndexExpr(token.Pos, node, new ListExpr(token.Pos, keys, isTuple: true)),
        };
    }

    private sealed record SliceParts(Expr? Start, Expr? Stop, Expr? Step);

    private (Expr?, SliceParts?) ParseSubscribed()
    {
        Expr? start = null;
        if (!IsOp(":"))
        {
            start = ParseExpression();
            if (!IsOp(":"))
                return (start, null);
        }

        Next();
        Expr? stop = IsOp(":") || IsOp("]") || IsOp(",") ? null : ParseExpression();
        Expr? step = null;
        if (IsOp(":"))
        {
            Next();
            if (!IsOp("]") && !IsOp(","))
                step = ParseExpression();
        }

        return (null, new SliceParts(start, stop, step));
    }

    private Expr ParseCall(Expr callee)
    {
        Token open = Current;
        return new CallExpr(open.Pos, callee, ParseCallArgs());
    }

    private ArgExprs ParseCallArgs()
    {
        Token open = Current;
        ExpectOp("(");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        bool needComma = false;
        while (!IsOp(")"))
        {
            if (needComma)
            {
                ExpectOp(",");
                if (IsOp(")"))
                    break;
            }

            if (IsOp("*") || IsOp("**"))
                throw Fail("unsupported: *args and **kwargs in calls");
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                Token key = Next();
                Next();
                if (named.Any(n => n.Item1 == key.Text))
                    throw Fail($"keyword argument '{key.Text}' repeated", key);
                named.Add((key.Text, ParseExpression()));
            }
            else
            {
                if (named.Count > 0)
                    throw Fail("positional argument follows keyword argument", open);
                positional.Add(ParseExpression());
            }

            needComma = true;
        }

        Next();
        return positional.Count == 0 && named.Count == 0 ? ArgExprs.None : new ArgExprs(positional, named);
    }

    private List<FilterCall> ParseFilterChain(bool startInline)
    {
        var filters = new List<FilterCall>();
        while (IsOp("|") || startInline)
        {
            if (!startInline)
                Next();
            startInline = false;
            filters.Add(ParseFilterCall());
        }

        return filters;
    }

    private FilterCall ParseFilterCall()
    {
        Token name = Expect(TokenKind.Name, "filter name");
        string filter = ParseDottedName(name.Text);
        if (!BuiltinFilters.Exists(filter))
            throw Fail($"unknown filter '{filter}'", name);
        ArgExprs args = IsOp("(") ? ParseCallArgs() : ArgExprs.None;
        return new FilterCall(name.Pos, filter, args);
    }

    private Expr ParseTest(Expr node)
    {
        Token isToken = Next();
        bool negated = false;
        if (Current.IsName("not"))
        {
            Next();
            negated = true;
        }

        Token name = Expect(TokenKind.Name, "test name");
        string test = ParseDottedName(name.Text);
        if (!BuiltinTests.Exists(test))
            throw Fail($"unknown test '{test}'", name);

        ArgExprs args = ArgExprs.None;
        if (IsOp("("))
        {
            args = ParseCallArgs();
        }
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || IsOp("[") || IsOp("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            // jinja2 accepts one bare argument: "x is divisibleby 3", "x is sameas none".
            if (Current.IsName("is"))
                throw Fail("cannot chain multiple tests with 'is'");
            args = new ArgExprs([ParsePostfix(ParsePrimary())], []);
        }

        return new TestExpr(isToken.Pos, node, test, args, negated);
    }

    private string ParseDottedName(string first)
    {
        string name = first;
        while (IsOp("."))
        {
            Next();
            name += "." + Expect(TokenKind.Name, "name").Text;
        }

        return name;
    }

    private void Enter()
    {
        if (++_nesting > MaxNesting || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw Fail($"template nested more than {MaxNesting} levels deep (or too deep for the available stack)");
    }
}
