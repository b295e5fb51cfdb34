namespace NotebookLens.Tests.Templates;

/// <summary><c>is</c> tests and the Python str/dict/list methods templates call.</summary>
public class TestAndMethodTests
{
    [Theory]
    [InlineData("{{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ true is number }}", "True True True False True True")]
    [InlineData("{{ 's' is string }} {{ d is mapping }} {{ xs is sequence }} {{ 's' is iterable }} {{ 1 is iterable }} {{ missing is iterable }}", "True True True True False True")]
    [InlineData("{{ nothing_here is none }} {{ nothing_here is not none }} {{ missing is defined }} {{ missing is undefined }} {{ messages[0].x is not defined }}", "True False False True True")]
    [InlineData("{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is eq 'a' }} {{ 2 is equalto 2.0 }} {{ 2 is ne 3 }}", "True True True False True True True")]
    [InlineData("{{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 2 is ge 3 }} {{ 2 is in [1, 2] }} {{ 'abc' is lower }} {{ 'ABC' is upper }}", "True True True False True True True")]
    [InlineData("{{ true is true }} {{ 1 is true }} {{ 0 is false }} {{ none is sameas none }} {{ 1 is sameas true }}", "True False False True False")]
    [InlineData("{{ range is callable }} {{ 'x'.upper is callable }} {{ n is callable }} {{ 'upper' is filter }} {{ 'odd' is test }}", "True True False True True")]
    [InlineData("{{ 4 is divisibleby 2 and true }} {{ none is none or false }}", "True True")]
    public void Tests(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ '\\n\\nx\\n'.strip('\\n') }}] [{{ 'xyhixy'.strip('xy') }}]", "[Hello World] [Hello World  ] [  Hello World] [x] [hi]")]
    [InlineData("{{ 'a b  c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ '  a b c  '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ''.split() }} {{ ''.split(',') }}", "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a', 'b c  '] ['a,b', 'c'] [] ['']")]
    [InlineData("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.startswith('l', 2) }}", "True True True")]
    [InlineData("{{ 'hi there'.upper() }} {{ 'HI'.lower() }} {{ \"it's ok\".title() }} {{ 'hi there'.capitalize() }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }}", "HI THERE hi It'S Ok Hi there 2 3 -1 2")]
    [InlineData("{{ 'aXbX'.replace('X', '-') }} {{ '-'.join(['a', 'b']) }} {{ '{} and {}'.format('x', 2) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }}", "a-b- a-b x and 2 aba N!")]
    [InlineData("{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ '  '.isspace() }} {{ ''.isspace() }}", "True False True True False")]
    [InlineData("{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.items() }} {{ d.keys() }} {{ d.values() | list }}", "2 None dflt dict_items([('b', 1), ('a', 2)]) dict_keys(['b', 'a']) [1, 2]")]
    [InlineData("{{ xs.index(1) }} {{ xs.count(3) }}", "1 1")]
    [InlineData("{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", "answer|reason")]
    public void Methods(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }
}
