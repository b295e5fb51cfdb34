namespace NotebookLens.Tests.Templates;

/// <summary>Built-in filters, Hugging Face's tojson, and the generator results of map/select.</summary>
public class FilterTests
{
    [Theory]
    [InlineData("[{{ s | trim }}] [{{ s | upper }}] [{{ s | lower }}] [{{ 'hello wORLD-foo (bar' | title }}] [{{ 'hELLO wORLD' | capitalize }}] [{{ 'xxaxx' | trim('x') }}]", "[Hello World] [  HELLO WORLD  ] [  hello world  ] [Hello World-Foo (Bar] [Hello world] [a]")]
    [InlineData("{{ xs | length }} {{ 'abc' | count }} {{ d | length }}", "3 3 2")]
    [InlineData("{{ missing | default('dflt') }} {{ nothing_here | default('dflt') }} [{{ '' | default('dflt') }}] {{ '' | default('dflt', true) }} {{ 0 | d('zero', boolean=true) }}", "dflt None [] dflt zero")]
    [InlineData("{{ xs | join(', ') }} {{ [1, none, 'a'] | join('-') }} {{ messages | join('/', attribute='role') }}", "3, 1, 2 1-None-a system/user")]
    [InlineData("{{ xs | first }} {{ xs | last }} {{ 'abc' | first }} [{{ [] | first }}] {{ d | first }}", "3 2 a [] b")]
    [InlineData("{{ 'ab' | list }} {{ d | list }} {{ 5 | string }} {{ [1, 'a'] | string }}", "['a', 'b'] ['b', 'a'] 5 [1, 'a']")]
    [InlineData("{{ '42' | int }} {{ '42.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.99 | int }} {{ '0x1A' | int(base=16) }} {{ '3.5' | float }} {{ 2 | float }}", "42 42 0 7 3 26 3.5 2.0")]
    [InlineData("{{ -3 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 7 | round }} {{ 1234.5678 | round(-2) }}", "3 2.0 4.0 2.67 3.0 7 1200.0")]
    [InlineData("{{ 1234 | round(-2) }} {{ 1250 | round(-2) }} {{ 1350 | round(-2) }} {{ -1250 | round(-2) }} {{ 7 | round(2) }} {{ 1234 | round(-2, 'ceil') }}", "1200 1200 1400 -1200 7 1300.0")]
    [InlineData("{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}", "bbb bba")]
    [InlineData("{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(by='value') }} {{ {'b': 1, 'A': 2, 'a': 0} | dictsort }}", "[('b', 1), ('a', 2)] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)] [('A', 2), ('a', 0), ('b', 1)]")]
    [InlineData("{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ xs | select('gt', 1) | list }}", "[3, 1] [2] [1, 'a'] [3, 2]")]
    [InlineData("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | first }}", "['Hi'] system")]
    [InlineData("{{ ['a', 'B'] | map('upper') | list }} {{ xs | map('string') | join('+') }} {{ messages | map(attribute='name', default='-') | list }}", "['A', 'B'] 3+1+2 ['-', '-']")]
    [InlineData("{{ xs | sort }} {{ xs | sort(reverse=true) }} {{ ['b', 'B', 'a'] | sort }} {{ ['b', 'B', 'a'] | sort(case_sensitive=true) }}", "[1, 2, 3] [3, 2, 1] ['a', 'b', 'B'] ['B', 'a', 'b']")]
    [InlineData("{{ ['a', 'A', 'b'] | unique | list }} {{ xs | min }} {{ xs | max }} {{ xs | sum }} {{ xs | sum(start=10) }} [{{ [] | max }}]", "['a', 'b'] 1 3 6 16 []")]
    [InlineData("{{ 'abc' | reverse }} {{ xs | reverse | list }}", "cba [2, 1, 3]")]
    [InlineData("[{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb' | indent(2, blank=true) }}] [{{ 'x\\n' | indent }}]", "[a\n    b\n\n    c] [  a\n  b] [a\n  \n  b] [x\n]")]
    [InlineData("{{ '<a href=\"x\">&\\'</a>' | e }} {{ '<b>' | safe }}", "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; <b>")]
    [InlineData("{{ range(7) | batch(3) | list }} [{{ 'ab' | center(7) }}] {{ 'Hello, world! foo_bar 42' | wordcount }}", "[[0, 1, 2], [3, 4, 5], [6]] [   ab  ] 4")]
    public void MatchesJinja2(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    // HF's tojson is json.dumps(ensure_ascii=False): ", " and ": " separators, insertion order, non-ASCII kept.
    [InlineData("{{ {'b': 1, 'a': [1.0, 2.5, none, true, '\u00e9\"\\\\\\n\\t\\u0001'], 'c': {}} | tojson }}", "{\"b\": 1, \"a\": [1.0, 2.5, null, true, \"\u00e9\\\"\\\\\\n\\t\\u0001\"], \"c\": {}}")]
    [InlineData("{{ {'k': ['\u4eca\u5929', '\U0001F600']} | tojson }}", "{\"k\": [\"\u4eca\u5929\", \"\U0001F600\"]}")]
    [InlineData("{{ [1, [2, []], {'a': {}}] | tojson(indent=2) }}", "[\n  1,\n  [\n    2,\n    []\n  ],\n  {\n    \"a\": {}\n  }\n]")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ '\u00fc' | tojson(ensure_ascii=true) }} {{ {'a': 1} | tojson(separators=(',', ':')) }}", "{\"a\": 2, \"b\": 1} \"\\u00fc\" {\"a\":1}")]
    // true == 1 in Python, so the third entry overwrites the first key's value.
    [InlineData("{{ {1: 'i', 2.5: 'f', true: 'b', none: 'n', false: 'z'} | tojson }}", "{\"1\": \"b\", \"2.5\": \"f\", \"null\": \"n\", \"false\": \"z\"}")]
    public void ToJsonMatchesPythonJsonDumps(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    // In jinja2 map/select/selectattr return generators: always truthy, used up by one pass.
    [InlineData("{% if messages | selectattr('role', 'equalto', 'tool') %}truthy{% else %}falsy{% endif %}", "truthy")]
    [InlineData("{% set g = xs | map('string') %}{{ g | join }}|{{ g | join }}|{{ g | list }}", "312||[]")]
    [InlineData("{% set g = xs | map('string') %}{{ g | first }}{{ g | first }}{{ g | list }}", "31['2']")]
    public void GeneratorResultsBehaveLikeJinja2(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }
}
