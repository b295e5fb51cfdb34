namespace NotebookLens.Tests.Templates;

/// <summary>Whitespace control exactly as jinja2 with trim_blocks and lstrip_blocks (HF's settings).</summary>
public class WhitespaceTests
{
    [Theory]
    // trim_blocks removes the newline after a block tag; lstrip_blocks the indentation before it.
    [InlineData("{% if true %}\n  x\n{% endif %}\n", "  x\n")]
    [InlineData("a\n  {% if true %}\n  b\n  {% endif %}\nc", "a\n  b\nc")]
    // lstrip only applies when nothing but spaces/tabs precede the tag on its line.
    [InlineData("a  {% if true %}b{% endif %}  c", "a  b  c")]
    // "-" strips all whitespace, newlines included, on that side.
    [InlineData("a  \n {%- if true -%} \n b \n {%- endif -%}  \n c", "abc")]
    // "+" disables lstrip_blocks (on the left) or trim_blocks (on the right).
    [InlineData("a\n  {%+ if true %}b{% endif %}", "a\n  b")]
    [InlineData("{% if true +%}\nb{% endif %}", "\nb")]
    // Expression tags are not trimmed and not lstripped.
    [InlineData("{{ 'a' }}\nb\n  {{ 'c' }}\n", "a\nb\n  c")]
    [InlineData("a \n {{- 'b' -}} \n c", "abc")]
    // Comments follow the block rules.
    [InlineData("a\n  {# note #}\nb\n{#- x -#}\n  c", "a\nbc")]
    // Only one trailing newline of the template is dropped; \r\n becomes \n.
    [InlineData("x\n\n", "x\n")]
    [InlineData("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", "a\nb\n")]
    // After a trimmed block end the next tag's indentation counts as line start.
    [InlineData("{% if true %}{% if true %}\n  x{% endif %}  {% endif %}\ny", "  x  y")]
    [InlineData("{% for x in xs %}\n  - {{ x }}\n{% endfor %}\n", "  - 3\n  - 1\n  - 2\n")]
    // A trailing space before the newline stops trim_blocks.
    [InlineData("{% if true %} \nx{% endif %}", " \nx")]
    // jinja2 reads "{{-1}}" as "{{-" then "1": the minus is whitespace control.
    [InlineData("{{-1}}", "1")]
    public void MatchesJinja2(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }

    [Theory]
    // raw: no trim after {% raw %}, but trim and lstrip around {% endraw %}.
    [InlineData("a\n  {% raw %}\n{{ x }} {% if %}\n  {% endraw %}\nb", "a\n\n{{ x }} {% if %}\nb")]
    [InlineData("a  {%- raw -%}  {{ y }}  {%- endraw -%}  b", "a{{ y }}b")]
    public void RawBlocksPassTemplateSyntaxThrough(string template, string expected)
    {
        Assert.Equal(expected, Jinja.Render(template));
    }
}
