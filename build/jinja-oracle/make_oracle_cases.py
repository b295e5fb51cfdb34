"""Writes tests/fixtures/templates/oracle-cases.json: templates rendered by the real jinja2 in HF's environment.

Each case is {"name", "template", "vars", "expected"} or, when jinja2 raises, {"..., "error": kind}
where kind is "syntax", "raised" (raise_exception) or "runtime". Regenerate with
    python3 build/jinja-oracle/make_oracle_cases.py
"""
import json
import random
import sys

from jinja2.exceptions import TemplateSyntaxError, TemplateError
from hf_env import make_env

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a city — “quoted” ünïcode",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
                       "required": ["city"]},
    },
}]
V = {"messages": MSGS, "tools": TOOLS, "s": "  Hello World  ", "n": 7, "f": 2.5, "xs": [3, 1, 2], "d": {"b": 1, "a": 2},
     "words": ["apple", "Banana", "cherry", "apple"], "e": "", "z": 0, "none": None, "t": True,
     "people": [{"name": "Ann", "age": 31, "tags": ["x"]}, {"name": "bob", "age": 25}, {"name": "Cid", "age": 31, "tags": []}],
     "nested": {"a": {"b": [10, 20, {"c": "deep"}]}}, "emoji": "a😀b", "items": {"items": 5, "keys": 1}}

CASES = [
    # ---- whitespace control, trim_blocks, lstrip_blocks
    ("ws_if_block", "{% if true %}\n  x\n{% endif %}\n", {}),
    ("ws_indented_tags", "a\n  {% if true %}\n  b\n  {% endif %}\nc", {}),
    ("ws_tabs", "a\n\t {% if true %}\n\tb\n\t{% endif %}\t\nc", {}),
    ("ws_text_before_tag", "a  {% if true %}b{% endif %}  c", {}),
    ("ws_minus_both", "a  \n {%- if true -%} \n b \n {%- endif -%}  \n c", {}),
    ("ws_plus_lstrip", "a\n  {%+ if true %}b{% endif %}", {}),
    ("ws_plus_trim", "{% if true +%}\nb{% endif %}", {}),
    ("ws_var_no_trim", "{{ 'a' }}\nb\n  {{ 'c' }}\n", {}),
    ("ws_var_minus", "a \n {{- 'b' -}} \n c", {}),
    ("ws_comment", "a\n  {# note #}\nb\n{#- x -#}\n  c", {}),
    ("ws_comment_plus", "a\n  {#+ note +#}\nb", {}),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("ws_two_trailing_newlines", "x\n\n", {}),
    ("ws_for_lines", "{% for x in xs %}\n  - {{ x }}\n{% endfor %}\n", {}),
    ("ws_nested_for_if", "<ul>\n{% for x in xs %}\n    {% if x > 1 %}\n    <li>{{ x }}</li>\n    {% endif %}\n{% endfor %}\n</ul>", {}),
    ("ws_set_lines", "{% set a = 1 %}\n{% set b = 2 %}\n{{ a + b }}\n", {}),
    ("ws_raw", "a\n  {% raw %}\n{{ x }} {% if %}\n  {% endraw %}\nb", {}),
    ("ws_raw_minus", "a  {%- raw -%}  {{ y }}  {%- endraw -%}  b", {}),
    ("ws_tag_after_tag_same_line", "{% if true %}{% if true %}\n  x{% endif %}  {% endif %}\ny", {}),
    ("ws_lstrip_after_var", "{{ 'v' }}  {% if true %}x{% endif %}", {}),
    ("ws_lstrip_after_minus_end", "{% if true -%}\n   {% if true %}x{% endif %}{% endif %}", {}),
    ("ws_block_end_space_newline", "{% if true %} \nx{% endif %}", {}),
    ("ws_unicode_space_minus", "a\u00a0\u2003{%- if true %}b{% endif %}", {}),
    ("ws_gemma_like", "{{ bos }}\n{%- if true -%}\n    {{ 'A' }}\n{%- endif -%}\n", {"bos": "<bos>"}),
    ("ws_dash_number_gotcha", "{{-1}}", {}),
    # ---- literals and printing
    ("print_list", "{{ [1, 'a', true, none] }}", {}),
    ("print_dict", "{{ {'k': 'v', 'n': [1.5, none]} }}", {}),
    ("print_tuple", "{{ (1,) }} {{ (1, 'b') }} {{ () }}", {}),
    ("print_bare_tuple", "{{ 1, 2 }}", {}),
    ("print_bools", "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}", {}),
    ("print_floats", "{{ 1.0 }} {{ 0.5 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ 123456789.125 }} {{ 1e15 }} {{ 0.1 + 0.2 }} {{ -0.0 }}", {}),
    ("print_string_repr", "{{ ['it\\'s', \"q\\\"d\", 'both\\'\"', 'tab\\there', 'nl\\n', '\\\\', 'ünï', '\\x01'] }}", {}),
    ("string_escapes", "{{ 'a\\tb\\nc\\\\d\\'e\\\"f\\x41\\u00e9\\q' }}", {}),
    ("string_adjacent", "{{ 'a' 'b' \"c\" }}", {}),
    ("ints", "{{ 1_000 }} {{ 42 }} {{ -3 }}", {}),
    ("print_json_vars", "{{ messages[0] }} {{ xs }} {{ d }} {{ f }} {{ n }} {{ none }} {{ t }}", {}),
    ("print_nested_unicode", "{{ {'é': ['ü', '😀']} }}", {}),
    # ---- operators
    ("arith", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {}),
    ("arith_mixed", "{{ 1 + 1.0 }} {{ 3 * 1.5 }} {{ 10 / 4 }} {{ 4 / 2 }} {{ true + 1 }} {{ 2 ** 3 ** 2 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 * 3 ~ 4 }} {{ not true or true }} {{ not (true or true) }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}", {}),
    ("e_precedence_concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 + 4 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ undefined_thing }}", {}),
    ("string_plus", "{{ 'a' + 'b' }} {{ [1] + [2, 3] }} {{ 'ab' * 3 }} {{ 2 * [0] }}", {}),
    ("compare", "{{ 1 == 1.0 }} {{ 1 != 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ true == 1 }} {{ 'B' < 'a' }}", {}),
    ("in_ops", "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 3 not in [1] }} {{ 'x' in undefined_thing }} {{ not 'z' in 'abc' }}", {}),
    ("and_or_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }} {{ n or 0 }}", {}),
    ("ternary", "{{ 'y' if t else 'n' }} {{ 'y' if z else 'n' }} [{{ 'y' if z }}] {{ 1 if false else 2 if false else 3 }}", {}),
    ("unary_minus_filter", "{{ -n | abs }} {{ -(n) }} {{ - 2.5 }} {{ +n }}", {}),
    ("filter_binds_tighter", "{{ 1 + xs | length }} {{ 'a' ~ xs | join }} {{ words | length > 3 }}", {}),
    # ---- variables, attributes, items
    ("attr_and_item", "{{ messages[1].role }} {{ messages[1]['content'] }} {{ nested.a.b[2].c }} {{ nested['a']['b'][-1]['c'] }} {{ xs.0 }} {{ messages.1.role }}", {}),
    ("dict_method_shadows_key", "{{ items['items'] }} {{ items['keys'] }} {{ items.get('items') }} {{ items.items() | list }}", {}),
    ("missing_attr_undefined", "[{{ messages[0].tool_calls }}] {{ messages[0].tool_calls is defined }} [{{ messages[9] }}] [{{ d.zz }}] [{{ d['zz'] }}]", {}),
    ("none_attr_undefined", "[{{ none.foo }}] {{ none.foo is defined }}", {}),
    ("slices", "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ xs[5:] }} {{ xs[-2:] }} {{ messages[1:] | length }}", {}),
    ("emoji_len_index", "{{ emoji | length }} {{ emoji[1] }} {{ emoji[::-1] }} {{ emoji | list }} {{ emoji | reverse }}", {}),
    ("string_index", "{{ 'abc'[0] }} {{ 'abc'[-1] }} [{{ 'abc'[5] }}]", {}),
    # ---- statements
    ("if_elif_else", "{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %},{% endfor %}", {}),
    ("for_loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("for_prev_next", "{% for x in xs %}[{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }}]{% endfor %}", {}),
    ("for_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", {}),
    ("for_changed", "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("for_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.content }} {% endfor %}", {}),
    ("for_filter_else", "{% for m in messages if m.role == 'tool' %}x{% else %}none{% endfor %}", {}),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}", {}),
    ("for_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {}),
    ("for_string", "{% for c in 'ab😀' %}[{{ c }}]{% endfor %}", {}),
    ("for_undefined", "[{% for x in nothing %}x{% endfor %}]", {}),
    ("break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("set_in_loop_does_not_leak", "{% set c = 0 %}{% for x in xs %}{% set c = c + x %}[{{ c }}]{% endfor %}{{ c }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set v = 'in' %}{% endif %}{{ v }}", {}),
    ("set_in_loop_fresh_each_iter", "{% for x in [1, 2] %}[{{ y }}]{% set y = x %}{% endfor %}[{{ y }}]", {}),
    ("namespace_counter", "{% set ns = namespace(c=0, last=none) %}{% for x in xs %}{% set ns.c = ns.c + x %}{% set ns.last = x %}{% endfor %}{{ ns.c }} {{ ns.last }} {{ ns.missing is defined }}", {}),
    ("namespace_print", "{{ namespace(a=1, b='x') }}", {}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set (c, d) = [3, 4] %}{{ c }}{{ d }}", {}),
    ("set_block", "{% set block %}\n  hello {{ n }}\n{% endset %}[{{ block }}]", {}),
    ("set_block_filter", "{% set block | upper | trim %}  hello {{ n }} {% endset %}[{{ block }}]", {}),
    ("macro_basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(punct='.', name='Cy') }} [{{ greet() }}]", {}),
    ("macro_default_uses_param", "{% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(3) }}", {}),
    ("macro_sees_globals", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ n }}{% endmacro %}{{ m() }}", {}),
    ("macro_set_does_not_leak", "{% macro m() %}{% set q = 1 %}{% endmacro %}{{ m() }}[{{ q }}]", {}),
    ("macro_recursive", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_render_schema", "{% macro render(v, depth) %}{% if v is mapping %}{% for k, x in v.items() %}\n{{ '  ' * depth }}{{ k }}:{{ render(x, depth + 1) }}{% endfor %}{% elif v is string %} {{ v }}{% else %} {{ v | tojson }}{% endif %}{% endmacro %}{{ render(tools[0].function.parameters, 0) }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ n }}{% endcall %}", {}),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", {}),
    ("filter_block", "{% filter upper %}hello {{ s | trim }}{% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = n %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("print_stmt", "{% print 'p' ~ n %}", {}),
    ("generation_tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% endif %}{% endfor %}", {}),
    ("comments_inside", "a{# {{ not rendered }} {% if %} #}b", {}),
    ("raise", "{{ raise_exception('boom: ' ~ n) }}", {}),
    ("raise_in_if", "{% if messages[0].role == 'system' %}{{ raise_exception('no system') }}{% endif %}", {}),
    ("range_forms", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}", {}),
    ("dict_global", "{{ dict(a=1, b='x') }} {{ dict(d, c=3) }}", {}),
    ("cycler_joiner", "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}{% set j = joiner('|') %}{% for x in xs %}{{ j() }}{{ x }}{% endfor %}", {}),
    ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%B %-d, %y %A %a %I%p %j') }}", {}),
    # ---- filters
    ("f_trim_case", "[{{ s | trim }}] [{{ s | upper }}] [{{ s | lower }}] [{{ 'hello wORLD-foo (bar' | title }}] [{{ 'hELLO wORLD' | capitalize }}] [{{ 'xxaxx' | trim('x') }}]", {}),
    ("f_length", "{{ xs | length }} {{ 'abc' | count }} {{ d | length }} {{ nothing | length }}", {}),
    ("f_default", "{{ nothing | default('dflt') }} {{ none | default('dflt') }} {{ '' | default('dflt') }} {{ '' | default('dflt', true) }} {{ 0 | d('zero', boolean=true) }} [{{ nothing | default }}]", {}),
    ("f_join", "{{ xs | join(', ') }} {{ words | join }} {{ people | join('/', attribute='name') }} {{ [1, none, 'a'] | join('-') }}", {}),
    ("f_first_last", "{{ xs | first }} {{ xs | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}] {{ d | first }}", {}),
    ("f_list_string", "{{ 'ab' | list }} {{ d | list }} {{ 5 | string }} {{ [1, 'a'] | string }} {{ none | string }}", {}),
    ("f_int_float", "{{ '42' | int }} {{ '42.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.99 | int }} {{ '0x1A' | int(base=16) }} {{ '3.5' | float }} {{ 'x' | float }} {{ 2 | float }} {{ none | int }} {{ true | int }} {{ ' 12 ' | int }}", {}),
    ("f_abs_round", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 7 | round }} {{ 1234.5678 | round(-2) }} {{ -0.5 | round }}", {}),
    ("f_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '-') }}", {}),
    ("f_items_dictsort", "{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(by='value') }} {{ {'b': 1, 'A': 2, 'a': 0} | dictsort }} {{ {'b': 1, 'A': 2, 'a': 0} | dictsort(true) }} {{ d | dictsort(reverse=true) }}", {}),
    ("f_select_reject", "{{ xs | select('odd') | list }} {{ xs | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ xs | select('gt', 1) | list }} {{ xs | select('equalto', 2) | list }} {{ xs | reject('in', [1, 2]) | list }}", {}),
    ("f_selectattr", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ people | selectattr('tags') | map(attribute='name') | join(',') }} {{ people | rejectattr('age', 'lt', 30) | map(attribute='name') | list }} {{ people | selectattr('tags', 'defined') | list | length }}", {}),
    ("f_map", "{{ words | map('upper') | list }} {{ people | map(attribute='age') | sum }} {{ people | map(attribute='tags', default='-') | list }} {{ xs | map('string') | join('+') }} {{ words | map('replace', 'a', 'A') | list }} {{ nested.a.b | map(attribute='c') | list }}", {}),
    ("f_sort", "{{ xs | sort }} {{ xs | sort(reverse=true) }} {{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ people | sort(attribute='age') | map(attribute='name') | list }} {{ people | sort(attribute='age,name', reverse=true) | map(attribute='name') | list }}", {}),
    ("f_unique_minmax_sum", "{{ words | unique | list }} {{ words | unique(case_sensitive=true) | list }} {{ xs | min }} {{ xs | max }} {{ words | min }} {{ words | max(case_sensitive=true) }} {{ people | max(attribute='age') }} {{ xs | sum }} {{ xs | sum(start=10) }} [{{ [] | max }}]", {}),
    ("f_reverse", "{{ 'abc' | reverse }} {{ xs | reverse | list }} {{ xs | reverse | join }}", {}),
    ("f_indent", "[{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb' | indent(2, blank=true) }}] [{{ 'a\\nb' | indent('> ') }}] [{{ 'one' | indent(first=true) }}] [{{ 'x\\n' | indent }}]", {}),
    ("f_tojson", "{{ tools | tojson }}\n{{ tools[0] | tojson(indent=2) }}\n{{ {'b': 1, 'a': [1.0, 2.5, none, true, 'é\"\\\\\\n\\t\\u0001'], 'c': {}} | tojson }}\n{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}\n{{ 'ü' | tojson(ensure_ascii=true) }}\n{{ [1, [2, []]] | tojson(indent=1) }}\n{{ {'a': 1} | tojson(separators=(',', ':')) }}\n{{ 'x' | tojson(indent='\\t') }}\n{{ {1: 'int key', 2.5: 'f', true: 'b', none: 'n'} | tojson }}", {}),
    ("f_tojson_messages", "{% for m in messages %}{{ m | tojson }}\n{% endfor %}", {}),
    ("f_escape_safe", "{{ '<a href=\"x\">&\\'</a>' | e }} {{ '<b>' | escape }} {{ '<b>' | safe }} {{ none | e }}", {}),
    ("f_batch_center_wordcount", "{{ range(7) | batch(3) | list }} {{ range(5) | batch(2, 'x') | list }} [{{ 'ab' | center(7) }}] [{{ 'abc' | center(8) }}] {{ 'Hello, world! foo_bar 42' | wordcount }}", {}),
    ("f_chain_on_undefined", "[{{ nothing | trim }}] [{{ nothing | upper }}] [{{ nothing | join }}] [{{ nothing | list }}] [{{ nothing | first }}] [{{ nothing | last }}] [{{ nothing | string }}] [{{ nothing | items | list }}] [{{ nothing | select | list }}] [{{ nothing | map('upper') | list }}] [{{ nothing | sort }}] [{{ nothing | reverse | list }}] [{{ nothing | replace('a', 'b') }}] [{{ nothing | e }}] [{{ nothing | safe }}] [{{ nothing | length }}] [{{ nothing | wordcount }}] [{{ nothing | unique | list }}] [{{ nothing | sum }}]", {}),
    ("e_undefined_int", "{{ nothing | int }}", {}),
    ("e_undefined_float", "{{ nothing | float }}", {}),
    ("e_undefined_abs", "{{ nothing | abs }}", {}),
    ("e_undefined_round", "{{ nothing | round }}", {}),
    ("e_undefined_dictsort", "{{ nothing | dictsort }}", {}),
    ("e_undefined_indent", "{{ nothing | indent }}", {}),
    ("e_undefined_compare", "{{ nothing < 1 }}", {}),
    ("e_undefined_negate", "{{ -nothing }}", {}),
    ("undefined_equality", "{{ nothing == nothing }} {{ nothing == none }} {{ nothing != 1 }} {{ nothing in [1] }} {{ not nothing }}", {}),
    ("f_generator_truthy", "{% if messages | selectattr('role', 'equalto', 'tool') %}truthy{% else %}falsy{% endif %}", {}),
    ("f_generator_consumed_once", "{% set g = xs | map('string') %}{{ g | join }}|{{ g | join }}|{{ g | list }}", {}),
    ("f_generator_first", "{% set g = xs | map('string') %}{{ g | first }}{{ g | first }}{{ g | list }}", {}),
    # ---- tests
    ("t_types", "{{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ true is number }} {{ 's' is string }} {{ d is mapping }} {{ xs is sequence }} {{ xs is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ nothing is iterable }} {{ nothing is sequence }} {{ none is none }} {{ none is not none }}", {}),
    ("t_defined", "{{ nothing is defined }} {{ nothing is undefined }} {{ n is defined }} {{ messages[0].content is defined }} {{ messages[0].x is not defined }}", {}),
    ("t_values", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is eq 'a' }} {{ 2 is equalto 2.0 }} {{ 2 is ne 3 }} {{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 2 is ge 3 }} {{ 2 is in [1, 2] }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aB' is lower }}", {}),
    ("t_true_false_sameas", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }}", {}),
    ("t_callable", "{{ range is callable }} {{ 'x'.upper is callable }} {{ n is callable }} {% macro m() %}{% endmacro %}{{ m is callable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}", {}),
    ("t_bare_arg_stops_at_and", "{{ 4 is divisibleby 2 and true }} {{ none is none or false }}", {}),
    # ---- methods
    ("m_strip", "[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ '\\n\\nx\\n'.strip('\\n') }}] [{{ 'xyhixy'.strip('xy') }}]", {}),
    ("m_split", "{{ 'a b  c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ '  a b c  '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ''.split() }} {{ ''.split(',') }} {{ '  a b c  '.rsplit(none, 1) }} {{ 'a\\nb\\r\\nc'.splitlines() }}", {}),
    ("m_starts_ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.startswith('l', 2) }} {{ '<tool_response>x</tool_response>'.startswith('<tool_response>') }}", {}),
    ("m_case_find", "{{ 'hi there'.upper() }} {{ 'HI'.lower() }} {{ 'hi there bob'.title() }} {{ \"it's ok\".title() }} {{ 'hi there'.capitalize() }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'a😀b'.find('b') }}", {}),
    ("m_replace_join_format", "{{ 'aXbX'.replace('X', '-') }} {{ '-'.join(['a', 'b']) }} {{ '{} and {}'.format('x', 2) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ '{{}}{}'.format(1) }} {{ '{!r}'.format('q') }}", {}),
    ("m_is", "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ '  '.isspace() }} {{ ''.isspace() }} {{ 'ab1'.isalnum() }}", {}),
    ("m_dict", "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.items() }} {{ d.keys() }} {{ d.values() }} {{ d.keys() | list }} {{ d.values() | list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.items() | length }} {{ 'a' in d.keys() }} {{ d.items() | list | first }} [{{ d.keys()[0] }}]", {}),
    ("e_tojson_dict_view", "{{ d.items() | tojson }}", {}),
    ("m_list", "{{ xs.index(1) }} {{ xs.count(3) }} {{ [1, 1, 2].count(1) }}", {}),
    ("m_misc", "{{ 'abc'.removeprefix('a') }} {{ 'abc'.removesuffix('c') }} {{ '5'.zfill(3) }} {{ '-5'.zfill(3) }} [{{ 'a'.ljust(3) }}] [{{ 'a'.rjust(3, '*') }}] [{{ 'ab'.center(6, '.') }}]", {}),
    ("qwen3_think_split", "{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", {}),
    # ---- errors
    ("e_unknown_filter", "{{ 'x' | nosuchfilter }}", {}),
    ("e_unknown_test", "{{ x is fancy }}", {}),
    ("e_unknown_tag", "{% frobnicate %}", {}),
    ("e_unclosed_if", "{% if true %}x", {}),
    ("e_stray_endfor", "{% endfor %}", {}),
    ("e_break_outside", "{% break %}", {}),
    ("e_attr_of_undefined", "{{ nothing.attr }}", {}),
    ("e_item_of_undefined", "{{ messages[0].tool_calls[0] }}", {}),
    ("e_method_of_undefined", "{{ messages[0].zz.strip() }}", {}),
    ("e_call_undefined", "{{ nothing() }}", {}),
    ("e_str_plus_int", "{{ 'a' + 1 }}", {}),
    ("e_int_plus_str", "{{ 1 + 'a' }}", {}),
    ("e_undefined_plus", "{{ nothing + 1 }}", {}),
    ("e_div_zero", "{{ 1 / 0 }}", {}),
    ("e_compare_types", "{{ 1 < 'a' }}", {}),
    ("e_append", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("e_dict_update", "{{ d.update({'x': 1}) }}", {}),
    ("e_namespace_set_non_ns", "{% set q = 1 %}{% set q.a = 2 %}", {}),
    ("e_unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("e_length_of_generator", "{{ xs | map('string') | length }}", {}),
    ("e_last_of_generator", "{{ xs | select | last }}", {}),
    ("e_tojson_undefined", "{{ nothing | tojson }}", {}),
    ("e_iterate_int", "{% for x in 5 %}{% endfor %}", {}),
    ("e_in_string_non_string", "{{ 1 in 'abc' }}", {}),
    ("e_range_too_big", "{{ range(100001) | length }}", {}),
    ("e_macro_too_many_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("e_bad_expression", "{{ 1 + }}", {}),
    ("e_unterminated_string", "{{ 'abc }}", {}),
    ("e_unclosed_comment", "a {# b", {}),
    ("e_raise_in_macro", "{% macro m() %}{{ raise_exception('from macro') }}{% endmacro %}{{ m() }}", {}),
]


def fuzz_cases(count, seed):
    rng = random.Random(seed)
    texts = ["", "a", " ", "  ", "\t", "\n", " \n", "\n  ", "x\n", "  y  ", "\n\n", " \t\n "]
    opens = ["{%", "{%-", "{%+"]
    closes = ["%}", "-%}", "+%}"]
    vopen = ["{{", "{{-"]
    vclose = ["}}", "-}}"]

    def text():
        return "".join(rng.choice(texts) for _ in range(rng.randint(0, 3)))

    def block(depth):
        parts = []
        for _ in range(rng.randint(1, 4)):
            parts.append(text())
            kind = rng.randint(0, 5 if depth < 3 else 3)
            if kind == 0:
                parts.append(f"{rng.choice(vopen)} 'v' {rng.choice(vclose)}")
            elif kind == 1:
                parts.append(f"{rng.choice(['{#', '{#-', '{#+'])} c {rng.choice(['#}', '-#}', '+#}'])}")
            elif kind == 2:
                parts.append(f"{rng.choice(opens)} set q = 1 {rng.choice(closes)}")
            elif kind == 3:
                parts.append(f"{rng.choice(opens)} raw {rng.choice(['%}', '-%}'])}{text()}{{{{ r }}}}{text()}{rng.choice(opens)} endraw {rng.choice(closes)}")
            elif kind == 4:
                cond = rng.choice(["true", "false"])
                parts.append(f"{rng.choice(opens)} if {cond} {rng.choice(closes)}{block(depth + 1)}"
                             f"{rng.choice(opens)} else {rng.choice(closes)}{block(depth + 1)}{rng.choice(opens)} endif {rng.choice(closes)}")
            else:
                parts.append(f"{rng.choice(opens)} for i in [1, 2] {rng.choice(closes)}{block(depth + 1)}{rng.choice(opens)} endfor {rng.choice(closes)}")
        parts.append(text())
        return "".join(parts)

    return [(f"fuzz_ws_{i:03d}", block(0), {}) for i in range(count)]


def classify(exc):
    if isinstance(exc, TemplateSyntaxError):
        return "syntax"
    if type(exc) is TemplateError:  # what HF's raise_exception raises
        return "raised"
    return "runtime"


def main(out_path, fuzz_count=300, seed=1234):
    env = make_env()
    results = []
    for name, template, extra in CASES + fuzz_cases(fuzz_count, seed):
        variables = dict(V, **extra)
        case = {"name": name, "template": template, "vars": variables}
        try:
            case["expected"] = env.from_string(template).render(**variables)
        except Exception as exc:  # noqa: BLE001 - every jinja2 failure is a data point
            case["error"] = classify(exc)
            case["jinja2_message"] = f"{type(exc).__name__}: {exc}"
        results.append(case)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"{len(results)} cases, {sum('error' in c for c in results)} errors -> {out_path}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "tests/fixtures/templates/oracle-cases.json", *(int(a) for a in args[1:3]))
