using CsCheck;
using NotebookLens.Templates;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// Generated chat templates: pieces of real templates, runaway loops, recursion, huge strings, attribute probes and
/// broken syntax, concatenated at random. A template is untrusted code: it renders or fails with a TemplateException,
/// within the time and allocation bounds, and never reaches anything but the values passed in.
/// </summary>
public class TemplateFuzzTests
{
    static readonly string[] Pieces =
    [
        "{% for m in messages %}", "{% endfor %}", "{% if add_generation_prompt %}", "{% else %}", "{% endif %}", "{{ m.content }}",
        "{{ m['role'] | upper }}", "{{ bos_token }}", "{%- set ns = namespace(x=0) -%}", "{% set ns.x = ns.x + 1 %}", "{{ ns.x }}",
        "{{ messages | length }}", "{{ messages[0].content | trim }}", "{{ raise_exception('no') }}", "{{ x | nosuchfilter }}",
        "{% for i in range(1000000000) %}{{ i }}{% endfor %}", "{% for i in range(10**9) %}{% endfor %}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "{{ 'x' * 1000000000 }}", "{{ ('ab' * 100000) * 100000 }}",
        "{% set s = 'x' * 4000000 %}{% for i in range(40) %}{{ s }}{% endfor %}", "{{ [1] * 1000000000 }}",
        "{{ ''.__class__ }}", "{{ messages.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", "{{ self }}",
        "{{ m.GetType() }}", "{{ messages.pop() }}", "{{ tojson(messages, indent=2) }}", "{{ messages | tojson }}",
        "{{ 1 / 0 }}", "{{ 10 ** 10 ** 10 }}", "{% for a in messages %}{% for b in messages %}{{ a.content ~ b.content }}{% endfor %}{% endfor %}",
        "{% break %}", "{% continue %}", "{{", "}}", "{%", "%}", "{#", "#}", "{{ (((((((((( 1 )))))))))) }}", "text ", "\n",
        "{% filter upper %}", "{% endfilter %}", "{% call f(1) %}x{% endcall %}", "{{ strftime_now('%Y') }}", "{{ loop.index }}",
        "{% generation %}", "{% endgeneration %}", "{{ m.content.split(' ') | map('upper') | join(',') }}", "{{ undefined_name.x.y }}",
    ];

    static readonly Gen<string> Templates = Gen.Frequency(
        (6, Gen.OneOf(Pieces).Array[1, 10].Select(p => string.Concat(p))),
        // Nesting deep enough to exhaust a small stack if the parser recursed without a guard.
        (1, Gen.Int[1, 5000].Select(n => new string('(', n) + "1" + new string(')', n)).Select(e => "{{ " + e + " }}")),
        (1, Gen.Int[1, 5000].Select(n => string.Concat(Enumerable.Repeat("{% if true %}", n)) + string.Concat(Enumerable.Repeat("{% endif %}", n)))));

    static readonly Dictionary<string, object?> Variables = new()
    {
        ["messages"] = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hello there" },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "hi" },
        },
        ["add_generation_prompt"] = true,
        ["bos_token"] = "<s>",
    };

    [Fact]
    public void Any_template_renders_or_fails_with_a_template_error()
    {
        Fuzz.Check(Templates, source =>
        {
            var output = JinjaTemplate.Parse(source).Render(Variables, new DateTime(2026, 1, 1));
            Assert.DoesNotContain("System.", output);
        }, null, [typeof(TemplateException)], source => source.Length > 400 ? source[..400] + "..." : source);
    }
}
