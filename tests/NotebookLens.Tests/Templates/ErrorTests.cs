using NotebookLens.Templates;

namespace NotebookLens.Tests.Templates;

/// <summary>Unsupported or broken templates fail loudly, naming the construct and where it is.</summary>
public class ErrorTests
{
    private static TemplateSyntaxException ParseError(string template) =>
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(template));

    private static TemplateRuntimeException RenderError(string template) =>
        Assert.Throws<TemplateRuntimeException>(() => Jinja.Render(template));

    [Fact]
    public void UnknownFilterIsReportedAtParseTimeWithItsPosition()
    {
        var e = ParseError("line one\nline two\n{{ text | wordwrap(10) }}");
        Assert.Equal("unknown filter 'wordwrap' at line 3, column 11", e.Message);
    }

    [Fact]
    public void UnknownFilterIsReportedEvenInABranchThatNeverRuns()
    {
        // jinja2 3.x would only fail when the branch runs; failing early is deliberate here.
        var e = ParseError("{% if false %}{{ 'x' | nosuchfilter }}{% endif %}");
        Assert.Contains("unknown filter 'nosuchfilter'", e.Message);
    }

    [Theory]
    [InlineData("{{ x is fancy }}", "unknown test 'fancy' at line 1, column 9")]
    [InlineData("{% frobnicate %}", "unknown statement 'frobnicate' at line 1, column 4")]
    [InlineData("{% include 'other.jinja' %}", "unsupported statement 'include' at line 1, column 4")]
    [InlineData("{% for x in xs recursive %}{% endfor %}", "unsupported: recursive for loops at line 1, column 16")]
    [InlineData("{% endfor %}", "unexpected 'endfor': no open block expects it here at line 1, column 4")]
    [InlineData("{% break %}", "'break' outside of a for loop at line 1, column 4")]
    [InlineData("{{ 1 + }}", "unexpected '}}' at line 1, column 8")]
    [InlineData("{{ 'abc }}", "unterminated string literal at line 1, column 4")]
    [InlineData("a {# b", "missing end of comment tag '#}' at line 1, column 3")]
    [InlineData("{{ f(*args) }}", "unsupported: *args and **kwargs in calls at line 1, column 6")]
    public void SyntaxErrorsNameTheConstructAndPosition(string template, string message)
    {
        Assert.Equal(message, ParseError(template).Message);
    }

    [Fact]
    public void UnclosedBlockNamesTheOpenerAndTheExpectedTags()
    {
        var e = ParseError("{% for x in xs %}\n{% if x %}x");
        Assert.Equal(
            "unexpected end of template: 'if' opened at line 2, column 4 was never closed (expected 'elif' or 'else' or 'endif') at line 2, column 12",
            e.Message);
    }

    [Fact]
    public void DeeplyNestedInputIsASyntaxErrorNotAStackOverflow()
    {
        var e = ParseError("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}");
        Assert.Contains("nested more than 150 levels deep", e.Message);
    }

    [Theory]
    [InlineData("{{ missing.attr }}", "cannot read attribute 'attr' of 'missing': 'missing' is undefined (at line 1, column 11)")]
    [InlineData("{{ messages[0].tool_calls[0] }}", "cannot read item 0 of 'messages[0].tool_calls': 'dict object' has no attribute 'tool_calls' (at line 1, column 26)")]
    [InlineData("{{ messages[0].zz.strip() }}", "cannot read attribute 'strip' of 'messages[0].zz': 'dict object' has no attribute 'zz' (at line 1, column 18)")]
    [InlineData("{{ lipsum(3) }}", "cannot call 'lipsum': 'lipsum' is undefined (at line 1, column 10)")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str (at line 1, column 8)")]
    [InlineData("{{ 1 + missing }}", "'missing' is undefined (at line 1, column 6)")]
    [InlineData("{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str' (at line 1, column 4)")]
    [InlineData("{{ 1 // 0 }}", "integer division or modulo by zero (at line 1, column 6)")]
    [InlineData("{% for a, b in [[1, 2, 3]] %}{% endfor %}", "too many values to unpack (expected 2) (at line 1, column 4)")]
    [InlineData("{% set q = 1 %}{% set q.a = 2 %}", "cannot assign attribute 'a' on 'q': it is not a namespace() object (at line 1, column 19)")]
    [InlineData("{{ 'x'.encode() }}", "unsupported method 'encode' of a str value (at line 1, column 14)")]
    [InlineData("{{ xs | map('string') | length }}", "filter 'length': object of type 'generator' has no len() (at line 1, column 25)")]
    [InlineData("{{ xs | map('string') }}", "cannot print the result of 'map': in jinja2 it is a generator; convert it with '| list' first (at line 1, column 1)")]
    [InlineData("{{ missing | tojson }}", "filter 'tojson': Object of type Undefined is not JSON serializable (at line 1, column 14)")]
    [InlineData("{{ xs | map('nosuch') | list }}", "filter 'map': unknown filter 'nosuch' passed to map (at line 1, column 9)")]
    [InlineData("{{ '%d' % 3 }}", "the '%' string formatting operator is not supported; use '~' or the format method (at line 1, column 9)")]
    [InlineData("{{ strftime_now('%Q') }}", "strftime_now: unsupported directive '%Q' (at line 1, column 16)")]
    public void RuntimeErrorsNameTheExpressionAndPosition(string template, string message)
    {
        Assert.Equal(message, RenderError(template).Message);
    }

    [Theory]
    [InlineData("{% set l = [] %}{{ l.append(1) }}", "list with 'append'")]
    [InlineData("{{ xs.pop() }}", "list with 'pop'")]
    [InlineData("{{ d.update({'x': 1}) }}", "dict with 'update'")]
    public void MutatingMethodsAreRefusedLikeTheImmutableSandbox(string template, string detail)
    {
        var e = RenderError(template);
        Assert.Contains($"the template tried to mutate a {detail}", e.Message);
        Assert.Contains("immutable sandbox", e.Message);
    }

    [Fact]
    public void RaiseExceptionThrowsTheTemplatesMessageVerbatim()
    {
        var e = Assert.Throws<TemplateRaisedException>(() => Jinja.Render(
            "{% macro check(m) %}{% if m.role == 'system' %}{{ raise_exception('System role not supported: ' ~ m.content) }}{% endif %}{% endmacro %}" +
            "{% for m in messages %}{{ check(m) }}{% endfor %}"));
        Assert.Equal("System role not supported: Be brief.", e.Message);
    }

    [Fact]
    public void RunawayRecursionHitsTheCallLimit()
    {
        var e = RenderError("{% macro f(k) %}{{ f(k + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Contains("runaway template: calls nested more than 200 deep", e.Message);
    }

    [Fact]
    public void RunawayLoopsHitTheIterationLimit()
    {
        var e = RenderError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
        Assert.Contains("runaway template: more than 1000000 loop iterations", e.Message);
    }

    [Fact]
    public void HugeRangesAreRefusedLikeTheSandbox()
    {
        var e = RenderError("{{ range(100001) | length }}");
        Assert.Contains("Range too big", e.Message);
    }

    [Fact]
    public void GiganticOutputHitsTheOutputLimit()
    {
        // Each piece and the loop are within their own limits; only the output as a whole is too big (100 million characters).
        var e = RenderError("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}");
        Assert.Contains($"template output exceeds {RenderContext.MaxOutputLength} characters", e.Message);
    }

    [Theory]
    [InlineData("{{ 'abc' * 100000000 }}", "string repetition would produce more than")]
    [InlineData("{{ 'a\nb' | indent(1000000000) }}", "indent width 1000000000 is larger than")]
    [InlineData("{{ 'a' | center(1000000000) }}", "center width 1000000000 is larger than")]
    [InlineData("{{ 'a'.ljust(1000000000) }}", "str.ljust width 1000000000 is larger than")]
    [InlineData("{{ [1] | tojson(indent=1000000000) }}", "tojson indent 1000000000 is larger than")]
    public void HugeAllocationsAreRefused(string template, string message)
    {
        Assert.Contains(message, RenderError(template).Message);
    }

    [Fact]
    public void UnsupportedVariableTypesAreRejected()
    {
        var e = Assert.Throws<TemplateRuntimeException>(() =>
            JinjaTemplate.Parse("{{ x }}").Render(new Dictionary<string, object?> { ["x"] = new Uri("http://example.invalid/") }));
        Assert.Equal("variable 'x' has unsupported type System.Uri", e.Message);
    }

    [Fact]
    public void ANamespaceContainingItselfPrintsLikePython()
    {
        Assert.Equal("<Namespace {'me': <Namespace {...}>}>", Jinja.Render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"));
    }

    [Theory]
    [InlineData(4 * 1024 * 1024)]
    [InlineData(256 * 1024)]
    public void DeepRecursionStopsCleanlyWhateverTheStackSize(int stackBytes)
    {
        // A macro body heavier than real templates use; a stack overflow would kill the test host.
        const string template =
            "{% macro f(k) %}{% for i in [1] %}{% if true %}{% with a = [k] %}{{ (f(k + 1) ~ a | join) | trim | upper }}" +
            "{% endwith %}{% endif %}{% endfor %}{% endmacro %}{{ f(0) }}";
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(() => Jinja.Render(template)), maxStackSize: stackBytes);
        thread.Start();
        thread.Join();

        Assert.IsType<TemplateRuntimeException>(error);
        Assert.Contains("runaway template", error!.Message);
    }

    [Fact]
    public void DeepParsingStopsCleanlyOnASmallStack()
    {
        Exception? error = null;
        string source = "{{ " + new string('(', 140) + "1" + new string(')', 140) + " }}";
        var thread = new Thread(() => error = Record.Exception(() => JinjaTemplate.Parse(source)), maxStackSize: 128 * 1024);
        thread.Start();
        thread.Join();

        Assert.True(error is null or TemplateSyntaxException, error?.ToString());
    }
}
