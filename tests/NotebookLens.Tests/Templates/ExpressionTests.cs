namespace NotebookLens.Tests.Templates;

/// <summary>Literals, Python printing of values, operators and precedence, access and slicing.</summary>
public class ExpressionTests
{
    [Theory]
    [InlineData("{{ [1, 'a', true, none] }}", "[1, 'a', True, None]")]
    [InlineData("{{ {'k': 'v', 'n': [1.5, none]} }}", "{'k': 'v', 'n': [1.5, None]}")]
    [InlineData("{{ (1,) }} {{ (1, 'b') }} {{ 1, 2 }}", "(1,) (1, 'b') (1, 2)")]
    [InlineData("{{ true }} {{ False }} {{ none }} {{ None }}", "True False None None")]
    [InlineData("{{ 1.0 }} {{ 0.5 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ 0.1 + 0.2 }}", "1.0 0.5 1e+16 1.5e-05 0.0001 0.30000000000000004")]
    [InlineData("{{ [\"it's\", 'q\"d', 'tab\\there', '\\x01'] }}", "[\"it's\", 'q\"d', 'tab\\there', '\\x01']")]
    [InlineData("{{ 'a\\tb\\nc\\\\d\\'e\\\"f\\u00e9' }}", "a\tb\nc\\d'e\"f\u00e9")]
    [InlineData("{{ 'a' 'b' \"c\" }} {{ 1_000 }}", "abc 1000")]
    [InlineData("{{ messages[0] }} {{ xs }} {{ d }} {{ f }} {{ n }}", "{'role': 'system', 'content': 'Be brief.'} [3, 1, 2] {'b': 1, 'a': 2} 2.5 7")]
    public void PrintsValuesAsPythonStr(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("{{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", "3.5 2.0 3 -4 2 -2 1024 0.5")]
    [InlineData("{{ 1 + 1.0 }} {{ 3 * 1.5 }} {{ true + 1 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 'a' + 'b' }}", "2.0 4.5 2 abab [1, 2] ab")]
    [InlineData("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 10 - 2 - 3 }}", "7 9 4 64 5")]
    [InlineData("{{ 2 * 3 ~ 4 }} {{ 'a' ~ 1 ~ none ~ true ~ missing }}", "64 a1NoneTrue")]
    [InlineData("{{ 1 == 1.0 }} {{ true == 1 }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", "True True True True True False")]
    [InlineData("{{ 'ell' in 'hello' }} {{ 2 in xs }} {{ 'a' in d }} {{ 3 not in [1] }} {{ 'x' in missing }}", "True True True True False")]
    [InlineData("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or [] }} {{ not true or true }}", "x b [] True")]
    [InlineData("{{ 'y' if t else 'n' }} [{{ 'y' if not t }}] {{ 1 if false else 2 if false else 3 }}", "y [] 3")]
    [InlineData("{{ -n | abs }} {{ 1 + xs | length }}", "7 4")]
    public void OperatorsFollowPythonAndJinja2Precedence(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("{{ messages[1].role }} {{ messages[1]['content'] }} {{ xs.0 }} {{ messages.1.role }}", "user Hi 3 user")]
    [InlineData("[{{ messages[0].tool_calls }}] [{{ messages[9] }}] [{{ d.zz }}] [{{ nothing_here.x }}]", "[] [] [] []")]
    [InlineData("{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[5:] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }}", "[1, 2] [3, 1] [2, 1, 3] [3, 2] [] el olleh")]
    [InlineData("{{ 'a\U0001F600b' | length }} {{ 'a\U0001F600b'[1] }} {{ 'a\U0001F600b'[::-1] }}", "3 \U0001F600 b\U0001F600a")]
    public void ReadsAttributesItemsAndSlices(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    [InlineData("[{{ missing }}] {{ missing is defined }} {{ missing | default('x') }} [{% for i in missing %}i{% endfor %}]", "[] False x []")]
    [InlineData("{{ missing == missing }} {{ missing == none }} {{ not missing }} {{ missing | length }}", "True False True 0")]
    public void UndefinedIsFalsyEmptyAndPrintsNothing(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }
}
