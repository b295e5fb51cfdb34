namespace NotebookLens.Tests.Templates;

/// <summary>Control flow, loop variables, scoping, namespace, macros and block statements.</summary>
public class StatementTests
{
    [Theory]
    [InlineData("{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %},{% endfor %}", "zero,one,two,many,")]
    [InlineData("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", "1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|")]
    [InlineData("{% for x in xs %}[{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }}]{% endfor %}", "[-3-1][3-1-2][1-2-]")]
    [InlineData("{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", "abcab")]
    [InlineData("{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", "121")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}", "empty|1")]
    [InlineData("{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}:{{ m.content }}{% endfor %}", "1/1:Hi")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", "b=1;a=2;ba")]
    [InlineData("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", "0134")]
    [InlineData("{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", "1x11y21;2x12y22;")]
    public void LoopsAndConditions(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    // A set inside a for loop is local to the iteration; that is why templates use namespace().
    [InlineData("{% set c = 0 %}{% for x in xs %}{% set c = c + x %}[{{ c }}]{% endfor %}{{ c }}", "[3][1][2]0")]
    [InlineData("{% for x in [1, 2] %}[{{ y }}]{% set y = x %}{% endfor %}[{{ y }}]", "[][][]")]
    // A set inside an if is visible after it.
    [InlineData("{% if true %}{% set v = 'in' %}{% endif %}{{ v }}", "in")]
    [InlineData("{% set ns = namespace(c=0, last=none) %}{% for x in xs %}{% set ns.c = ns.c + x %}{% set ns.last = x %}{% endfor %}{{ ns.c }} {{ ns.last }} {{ ns.missing is defined }}", "6 2 False")]
    [InlineData("{{ namespace(a=1, b='x') }}", "<Namespace {'a': 1, 'b': 'x'}>")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set (c, e) = [3, 4] %}{{ c }}{{ e }}", "1234")]
    [InlineData("{% set block %}\n  hello {{ n }}\n{% endset %}[{{ block }}]", "[  hello 7\n]")]
    [InlineData("{% set block | upper | trim %}  hello {{ n }} {% endset %}[{{ block }}]", "[HELLO 7]")]
    [InlineData("{% with a = 1, b = n %}{{ a + b }}{% endwith %}[{{ a }}]", "8[]")]
    public void ScopingMatchesJinja2(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(punct='.', name='Cy') }} [{{ greet() }}]", "Hi Ann! Hi Bob? Hi Cy. [Hi !]")]
    [InlineData("{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }}", "3,6")]
    [InlineData("{% set g = 'G' %}{% macro m() %}{{ g }}{{ n }}{% set q = 1 %}{% endmacro %}{{ m() }}[{{ q }}]", "G7[]")]
    [InlineData("{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", "120")]
    [InlineData("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ n }}{% endcall %}", "<b>bold 7</b>")]
    [InlineData("{% macro each(items) %}{% for x in items %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", "[1][2]")]
    [InlineData("{% filter upper %}hello {{ s | trim }}{% endfilter %}", "HELLO HELLO WORLD")]
    [InlineData("{% print 'p' ~ n %}", "p7")]
    [InlineData("{% generation %}{{ n }}{% endgeneration %}", "7")]
    [InlineData("a{# {{ not rendered }} {% if %} #}b", "ab")]
    public void MacrosAndBlocks(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }}", "[0, 1, 2] [1, 2, 3] [10, 7, 4, 1]")]
    [InlineData("{{ dict(a=1, b='x') }} {{ dict(d, c=3) }}", "{'a': 1, 'b': 'x'} {'b': 1, 'a': 2, 'c': 3}")]
    [InlineData("{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}{% set j = joiner('|') %}{% for x in xs %}{{ j() }}{{ x }}{% endfor %}", "abab3|1|2")]
    [InlineData("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%B %-d, %y %A %a %I%p %j') }}", "26 Jul 2024|2024-07-26 09:05:03|July 26, 24 Friday Fri 09AM 208")]
    public void Globals(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }
}
