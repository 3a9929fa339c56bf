#!/usr/bin/env python3
"""Reference renders of small Jinja templates for the engine's language-corner tests.

usage: make_jinja_fixtures.py OUT.jsonl        (Tests/JinjaTests/Fixtures/language.jsonl)

Each case below (a name, a template, a context) is rendered by jinja2 in transformers' chat
template environment (`transformers.utils.chat_template_utils._compile_jinja_template`:
ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, {% generation %}, its
tojson/raise_exception/strftime_now/dict/namespace), with strftime_now's clock fixed at
SOURCE_DATE_EPOCH 1768435200 as make_chat_fixtures.py does. One JSON line per case:

  {"name", "template", "context", "text"}                 a render
  {"name", "template", "context", "error", "line"}        an exception: "Type: message" and the
                                                          template line jinja2 reports (null if none)
  "generation": [[start, end], ...]                       {% generation %} spans (UTF-8 bytes), for
                                                          templates that have such blocks

Chat cases (CHAT_CASES) go through transformers' `render_jinja_template` itself, with "chat":
{"messages", "tools", "documents", "add_generation_prompt", "kwargs", "normalize"} instead of a
context ("normalize": apply `_normalize_chat_messages` first, as `apply_chat_template` does).

The templates are inputs written for the tests; every expected output comes from jinja2.
"""
import datetime, json, re, sys, traceback

SOURCE_DATE_EPOCH = 1768435200


class FixedDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp(SOURCE_DATE_EPOCH, tz or datetime.timezone.utc).replace(tzinfo=tz)


import transformers.utils.chat_template_utils as ctu  # noqa: E402
ctu.datetime = FixedDatetime

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <b> & 'you'"},
        {"role": "assistant", "content": "Hello! 🙂"}, {"role": "user", "content": "Ça va?"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
D = {"b": 2, "a": 1, "C": 3}
PEOPLE = [{"name": "bob", "age": 31, "city": "Paris"}, {"name": "Alice", "age": 25, "city": "paris"},
          {"name": "carol", "age": 31, "city": "Rome"}, {"name": "dave", "age": None}]

CASES = [
    # --- whitespace control: trim_blocks, lstrip_blocks, - and + ---
    ("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("ws_lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n", {}),
    ("ws_lstrip_not_variables", "  {{ 'v' }}\n  {% if true %}t{% endif %}", {}),
    ("ws_minus_both", "a   {%- if true -%}   b   {%- endif -%}   c", {}),
    ("ws_minus_variable", "a \n {{- 'x' -}} \n b", {}),
    ("ws_plus_block_start", "  {%+ if true %}x{% endif %}", {}),
    ("ws_plus_block_end", "{% if true +%}\nx{% endif %}", {}),
    ("ws_comment", "a\n  {# note #}\nb {#- tight -#} c", {}),
    ("ws_comment_minus", "a  {#- c -#}  b", {}),
    ("ws_raw", "{% raw %}{{ not a var }}{% endraw %}|  {%- raw -%}  {% x %}  {%- endraw -%}  |", {}),
    ("ws_raw_lstrip", "line\n    {% raw %}\n  raw body\n    {% endraw %}\nend", {}),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n", {}),
    ("ws_trailing_newline", "x\n", {}),
    ("ws_trailing_newlines", "x\n\n", {}),
    ("ws_tabs", "\t{% if true %}\n\tin\n\t{% endif %}\n", {}),
    ("ws_for_lines", "{% for x in xs %}\n  - {{ x }}\n{% endfor %}\n", {"xs": [1, 2]}),
    ("ws_nested_minus", "{%- for x in xs -%}\n  {{- x -}}\n  {%- if not loop.last -%}, {% endif -%}\n{%- endfor -%}", {"xs": [1, 2, 3]}),
    ("ws_lstrip_after_text", "text  {% if true %}x{% endif %}", {}),
    ("ws_unicode_space", "a\u00a0{%- if true %}b{% endif %}", {}),
    ("ws_set_block", "{% set x %}\n  body\n{% endset %}[{{ x }}]", {}),
    ("ws_macro", "{% macro m() %}\n  m\n{% endmacro %}\n[{{ m() }}]", {}),
    # --- undefined ---
    ("undef_print", "[{{ missing }}][{{ missing.attr if missing is defined }}]", {}),
    ("undef_iterate", "{% for x in missing %}x{% else %}empty{% endfor %}", {}),
    ("undef_attr_error", "{{ missing.attr }}", {}),
    ("undef_dict_attr", "{{ d.nope }}|{{ d.nope is defined }}|{{ d['nope'] is undefined }}", {"d": D}),
    ("undef_dict_attr_error", "{{ d.nope.deeper }}", {"d": D}),
    ("undef_list_index_error", "{{ xs[5].x }}", {"xs": [1]}),
    ("undef_none_attr", "{{ n.x is defined }}{{ n.x }}", {"n": None}),
    ("undef_add", "{{ missing + 1 }}", {}),
    ("undef_concat", "[{{ missing ~ 'x' }}]", {}),
    ("undef_compare", "{{ missing == missing }}{{ missing != 1 }}{{ missing in [1] }}{{ 1 in missing }}", {}),
    ("undef_lt", "{{ missing < 1 }}", {}),
    ("undef_default", "{{ missing|default('d') }}|{{ ''|default('e', true) }}|{{ 0|d(5) }}|{{ none|default('n') }}", {}),
    ("undef_length", "{{ missing|length }}{{ missing|list }}{{ missing|join(',') }}", {}),
    ("undef_call", "{{ missing() }}", {}),
    ("undef_tests", "{{ missing is sequence }}{{ missing is iterable }}{{ missing is mapping }}{{ missing is string }}", {}),
    ("undef_truthy", "{% if missing %}t{% else %}f{% endif %}{{ not missing }}", {}),
    ("undef_cond_noelse", "[{{ 'a' if false }}]", {}),
    ("undef_cond_noelse_use", "{{ ('a' if false) + 'b' }}", {}),
    # --- loops ---
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
     "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("loop_prev_next", "{% for x in xs %}[{{ loop.previtem|default('-') }}<{{ x }}>{{ loop.nextitem|default('-') }}]{% endfor %}", {"xs": [1, 2, 3]}),
    ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("loop_changed", "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", {}),
    ("loop_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.index }}/{{ loop.length }}{{ '.' if loop.last }} {% endfor %}", {}),
    ("loop_else", "{% for x in [] %}x{% else %}none{% endfor %}", {}),
    ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_else_after_break", "{% for x in [1, 2] %}{% break %}{% else %}E{% endfor %}", {}),
    ("loop_else_all_continue", "{% for x in [1, 2] %}{% continue %}{% else %}E{% endfor %}", {}),
    ("loop_else_normal", "{% for x in [1, 2] %}{{ x }}{% else %}E{% endfor %}", {}),
    ("loop_nested", "{% for a in 'ab' %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("loop_dict", "{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}|{% for k, v in d|items %}{{ k }}{% endfor %}", {"d": D}),
    ("loop_unpack_error", "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}", {}),
    ("loop_unpack_short", "{% for a, b in [[1]] %}{{ a }}{% endfor %}", {}),
    ("loop_unpack_nonseq", "{% for a, b in [1] %}{{ a }}{% endfor %}", {}),
    ("loop_none", "{% for x in none %}{{ x }}{% endfor %}", {}),
    ("loop_int", "{% for x in 3 %}{{ x }}{% endfor %}", {}),
    ("loop_generator_twice", "{% set g = xs|map('upper') %}{% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}{% endfor %}", {"xs": ["a", "b"]}),
    ("loop_generator_length", "{% for x in xs|select %}{{ loop.length }}{% endfor %}", {"xs": [0, 1, 2, 0, 3]}),
    ("loop_recursive", "{% for n in tree recursive %}<{{ n.name }}{{ loop.depth }}{% if n.children %}[{{ loop(n.children) }}]{% endif %}>{% endfor %}",
     {"tree": [{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}, {"name": "d"}]}, {"name": "e"}]}),
    ("loop_scope", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }},{% endfor %}{{ x }}", {}),
    ("loop_var_after", "{% for i in [1, 2] %}{% endfor %}[{{ i }}]", {}),
    ("loop_assign_loop", "{% for loop in [1] %}{% endfor %}", {}),
    ("loop_string_chars", "{% for c in 'hé🙂' %}[{{ c }}]{% endfor %}", {}),
    ("loop_last_on_filter", "{% for m in msgs if m.role != 'system' %}{{ m.role }}{{ '!' if loop.last }} {% endfor %}", {"msgs": MSGS}),
    ("loop_range", "{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}{{ range(3)|length }}", {}),
    ("loop_range_too_big", "{{ range(200000)|length }}", {}),
    # --- scoping ---
    ("scope_if_leaks", "{% if true %}{% set x = 1 %}{% endif %}{{ x }}", {}),
    ("scope_if_false_context", "{% if false %}{% set x = 1 %}{% endif %}{{ x }}", {"x": "ctx"}),
    ("scope_with", "{% with a = 1, b = 2 %}{{ a + b }}{% set c = 3 %}{% endwith %}[{{ a }}{{ c }}]", {}),
    ("scope_namespace", "{% set ns = namespace(n=0, items=[]) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.n }}{{ ns.items }}", {}),
    ("scope_macro_late", "{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{% set x = 2 %}{{ m() }}", {}),
    ("scope_macro_before", "{% macro m() %}{{ y }}{% endmacro %}{{ m() }}{% set y = 5 %}", {"y": "ctx"}),
    ("scope_shadow_context", "{{ x }}{% set x = 2 %}{{ x }}", {"x": 1}),
    ("scope_set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c, d = 'xy' %}{{ c }}{{ d }}", {}),
    ("scope_set_messages", "{% set messages = messages[1:] %}{{ messages|length }}", {"messages": MSGS}),
    ("scope_nsref_error", "{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("scope_loop_in_macro", "{% macro m(xs) %}{% for x in xs %}{{ x }}{{ loop.index }}{% endfor %}{% endmacro %}{{ m('ab') }}", {}),
    ("scope_set_block_filter", "{% set x | upper %}hello {{ name }}{% endset %}{{ x }}", {"name": "bob"}),
    ("scope_filter_block", "{% filter upper %}a{{ 'b' }}{% endfilter %}", {}),
    # --- macros ---
    ("macro_defaults", "{% macro m(a, b=a * 2, c='z') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, c='q') }}|{{ m(b=3, a=4) }}", {}),
    ("macro_missing_param", "{% macro m(a, b) %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m() is string }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro_too_many", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}),
    ("macro_bad_kwarg", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, b=2) }}", {}),
    ("macro_caller", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}", {}),
    ("macro_caller_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x, loop.index) }}{% endfor %}{% endmacro %}{% call(item, i) each('ab') %}{{ i }}={{ item }};{% endcall %}", {}),
    ("macro_no_caller", "{% macro m() %}[{{ caller is defined }}]{% endmacro %}{{ m() }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("macro_repr", "{% macro m() %}{% endmacro %}{{ m }}|{{ m is callable }}|{{ m.name }}", {}),
    ("macro_returns_string", "{% macro m() %}5{% endmacro %}{{ m() + '1' }}{{ m()|int + 1 }}", {}),
    ("macro_caller_twice", "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}{% macro n() %}n{% endmacro %}{% call n() %}y{% endcall %}", {}),
    # --- namespace ---
    ("ns_basic", "{% set ns = namespace(a=1) %}{{ ns.a }}{{ ns['a'] }}{{ ns.b is defined }}{{ ns }}", {}),
    ("ns_dict_arg", "{% set ns = namespace({'x': 1}, y=2) %}{{ ns.x }}{{ ns.y }}", {}),
    ("ns_underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}", {}),
    ("ns_underscore_init", "{% set ns = namespace(_x=1) %}", {}),
    ("ns_missing_attr_error", "{% set ns = namespace() %}{{ ns.x.y }}", {}),
    ("ns_iterate", "{% set ns = namespace() %}{% for x in ns %}{% endfor %}", {}),
    # --- slicing and subscripts ---
    ("slice_list", "{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::2] }}{{ xs[::-1] }}{{ xs[-2:] }}{{ xs[5:] }}{{ xs[1:3] }}", {"xs": [1, 2, 3, 4]}),
    ("slice_string", "{{ s[1:4] }}|{{ s[::-1] }}|{{ s[-2:] }}|{{ s[0] }}|{{ s[-1] }}|{{ s[:100] }}", {"s": "héllo🙂"}),
    ("slice_step_zero", "{{ xs[::0] }}", {"xs": [1]}),
    ("slice_huge_steps", "{{ 'abcdef'[::9223372036854775807] }}|{{ 'abcdef'[::-9223372036854775807] }}|{{ [1, 2, 3][-9223372036854775807:9223372036854775807] }}|{{ 5 in range(-9223372036854775807, 10) }}|{{ range(-9223372036854775807, 10, 9223372036854775807)|list }}", {}),
    ("slice_bad_index", "{{ xs['a':] }}", {"xs": [1]}),
    ("slice_dict", "{{ d[1:] }}", {"d": D}),
    ("subscript_misc", "{{ xs.0 }}{{ xs[-1] }}{{ d['a'] }}{{ d.get('zz', 'dflt') }}{{ t[1] }}{{ 'ab'[1] }}", {"xs": [7, 8], "d": D, "t": [1, 2]}),
    ("subscript_items_key", "{{ d['items'] }}|{{ d.items is callable }}", {"d": {"items": "v"}}),
    ("subscript_none", "{{ n[0] is defined }}", {"n": None}),
    # --- operators ---
    ("ops_arith", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.0 }} {{ 10 / 5 }}", {}),
    ("ops_div_zero", "{{ 1 / 0 }}", {}),
    ("ops_floordiv_zero", "{{ 1 // 0 }}", {}),
    ("ops_mod_zero", "{{ 1 % 0 }}", {}),
    ("ops_float_div_zero", "{{ 1.5 / 0 }}", {}),
    ("ops_string_mul", "{{ 'ab' * 3 }}{{ 2 * 'x' }}{{ [1] * 2 }}{{ 'a' * 0 }}{{ 'a' * -1 }}{{ 'x' * true }}", {}),
    ("ops_string_mul_float", "{{ 'ab' * 1.5 }}", {}),
    ("ops_concat_types", "{{ 1 ~ 'a' ~ none ~ true ~ 1.5 ~ [1] ~ missing }}", {}),
    ("ops_add_str_int", "{{ 'a' + 1 }}", {}),
    ("ops_add_int_str", "{{ 1 + 'a' }}", {}),
    ("ops_add_str_dict", "{{ 'a' + d }}", {"d": D}),
    ("ops_add_lists", "{{ [1] + [2] }}{{ (1,) + (2,) }}", {}),
    ("ops_add_list_tuple", "{{ [1] + (2,) }}", {}),
    ("ops_sub_str", "{{ 'a' - 1 }}", {}),
    ("ops_neg", "{{ -x }}{{ - - 3 }}{{ -1.5 }}{{ +true }}", {"x": 5}),
    ("ops_neg_str", "{{ -'a' }}", {}),
    ("ops_compare", "{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 == 1.0 }}{{ true == 1 }}{{ 'a' != 'a' }}{{ none == none }}", {}),
    ("ops_compare_error", "{{ 1 < 'a' }}", {}),
    ("ops_in", "{{ 'a' in 'cat' }}{{ 2 in [1, 2] }}{{ 'b' in d }}{{ 'z' not in d }}{{ 3 in range(5) }}{{ (1, 2) in [(1, 2)] }}", {"d": D}),
    ("ops_in_error", "{{ 1 in 'abc' }}", {}),
    ("ops_in_none", "{{ 'a' in none }}", {}),
    ("ops_and_or", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ none or [] }}|{{ not [] }}", {}),
    ("ops_precedence", "{{ 1 + 2 * 3 ** 2 }}|{{ (1 + 2) * 3 }}|{{ -2 ** 2 }}|{{ not 1 == 2 }}|{{ 2 * 3 ~ 4 }}|{{ 1 if 0 else 2 if 1 else 3 }}", {}),
    ("ops_literals", "{{ 1_000 }} {{ 0x1F }} {{ 0b101 }} {{ 0o17 }} {{ 1e3 }} {{ 1.5e-3 }} {{ 'a' 'b' }} {{ \"q'\" }} {{ 'tab\\tnl\\n' }} {{ '\\u00e9\\x41' }}", {}),
    ("ops_bool_literals", "{{ True }}{{ false }}{{ None }}{{ none is none }}", {}),
    # --- str() and repr() ---
    ("repr_containers", "{{ [1, 'a', none, true, 1.5, [2], {'k': 'v'}] }}|{{ ('x',) }}|{{ () }}|{{ {} }}|{{ d }}", {"d": D}),
    ("repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'back\\\\slash', 'nl\\n', 'tab\\t', '\\x01', 'é🙂', '\\u200b', '\\x7f'] }}", {}),
    ("repr_floats", "{{ [0.1, 1.0, 1e16, 1e15, 1e-5, 0.0001, -0.0, 123456789.123, 1.5e300, 2.5] }}", {}),
    ("str_floats", "{{ 0.1 + 0.2 }} {{ 1e100 }} {{ 3.0 }} {{ 1/3 }} {{ 2.5|round }} {{ 3.5|round }} {{ 1e22 }} {{ 12345678901234567.0 }}", {}),
    ("repr_message", "{{ msgs[1] }}", {"msgs": MSGS}),
    ("repr_nested_data", "{{ tools }}", {"tools": TOOLS}),
    ("str_markup", "{{ ('<a>'|safe) + '<b>' }}|{{ '<b>' + ('<a>'|safe) }}|{{ ('<a>'|safe) ~ '<b>' }}|{{ '<x>'|escape }}|{{ ['<']|join('&'|safe) }}", {}),
    # --- filters ---
    ("f_trim", "[{{ '  a b  '|trim }}][{{ 'xxaxx'|trim('x') }}][{{ s|trim }}]", {"s": "\u3000 wide \n"}),
    ("f_length", "{{ 'héllo'|length }}{{ [1, 2]|count }}{{ d|length }}{{ ''|length }}", {"d": D}),
    ("f_length_error", "{{ 5|length }}", {}),
    ("f_length_generator", "{{ xs|map('upper')|length }}", {"xs": ["a"]}),
    ("f_join", "{{ xs|join(', ') }}|{{ [1, 2]|join }}|{{ people|join('/', attribute='name') }}|{{ 'abc'|join('-') }}", {"xs": ["a", "b"], "people": PEOPLE}),
    ("f_map", "{{ people|map(attribute='name')|list }}{{ people|map(attribute='zzz', default='?')|list }}{{ ['a', 'B']|map('upper')|list }}{{ ['a b', 'c']|map('replace', ' ', '_')|list }}", {"people": PEOPLE}),
    ("f_map_nested_attr", "{{ tools|map(attribute='function.name')|list }}", {"tools": TOOLS}),
    ("f_select", "{{ [0, 1, 2, 3, 4]|select('odd')|list }}{{ [0, 1, '', 'a']|select|list }}{{ [1, 2, 3]|reject('equalto', 2)|list }}{{ [1, 5, 9]|select('gt', 4)|list }}", {}),
    ("f_selectattr", "{{ people|selectattr('age', 'equalto', 31)|map(attribute='name')|join(',') }}|{{ people|rejectattr('age')|map(attribute='name')|list }}|{{ msgs|selectattr('role', 'in', ['user'])|list|length }}", {"people": PEOPLE, "msgs": MSGS}),
    ("f_select_unknown_test", "{{ [1]|select('nope')|list }}", {}),
    ("f_first_last", "{{ xs|first }}{{ xs|last }}{{ 'abc'|first }}{{ 'abc'|last }}{{ []|first is defined }}{{ d|first }}", {"xs": [1, 2, 3], "d": D}),
    ("f_last_generator", "{{ xs|map('upper')|last }}", {"xs": ["a"]}),
    ("f_case", "{{ 'hELLo wORLD'|upper }} {{ 'ÀÉ ß'|lower }} {{ 'hello wORLD-foo (bar) [x]'|title }} {{ 'hELLO'|capitalize }} {{ 'ß'|upper }} {{ 'ΟΔΟΣ'|lower }} {{ 'ǆ'|capitalize }}", {}),
    ("f_replace", "{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'abc'|replace('', '-') }}|{{ 5|replace('5', 'five') }}", {}),
    ("f_items_dictsort", "{{ d|items|list }}{{ d|dictsort }}{{ d|dictsort(true) }}{{ d|dictsort(false, 'value', true) }}", {"d": D}),
    ("f_items_error", "{{ [1]|items|list }}", {}),
    ("f_tojson", "{{ x|tojson }}|{{ x|tojson(indent=2) }}|{{ x|tojson(separators=(',', ':')) }}|{{ x|tojson(sort_keys=true) }}|{{ 'é\\n\"'|tojson }}|{{ 'é🙂'|tojson(ensure_ascii=true) }}",
     {"x": {"b": [1, 2.5, None, True], "a": {"c": "d"}, "e": [], "f": {}}}),
    ("f_tojson_indent_str", "{{ x|tojson(indent='\\t') }}|{{ [1, [2]]|tojson(indent=0) }}", {"x": {"a": [1]}}),
    ("f_tojson_floats", "{{ [0.1, 1.0, 1e16, 1e-7, -0.0, 100.0, 3]|tojson }}", {}),
    ("f_tojson_keys", "{{ {1: 'a', none: 'b', true: 'c', 2.5: 'd'}|tojson }}", {}),
    ("f_tojson_generator", "{{ xs|map('upper')|tojson }}", {"xs": ["a"]}),
    ("f_tojson_undefined", "{{ missing|tojson }}", {}),
    ("f_tojson_tuple_items", "{{ d|dictsort|tojson }}{{ (1, 'a')|tojson }}", {"d": D}),
    ("f_tojson_sort_mixed", "{{ {1: 'a', 'b': 2}|tojson(sort_keys=true) }}", {}),
    ("f_tojson_control", "{{ '\\x00\\x1f\\x7f\\u2028'|tojson }}{{ '\\x7f'|tojson(ensure_ascii=true) }}", {}),
    ("f_tojson_tools", "{{ tools|tojson(indent=4) }}", {"tools": TOOLS}),
    ("f_string_int_float", "{{ 5|string + 'x' }} {{ '42'|int + 1 }} {{ '42.9'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '0x1A'|int(0, 16) }} {{ '1A'|int(base=16) }} {{ '3.5'|float }} {{ 'x'|float }} {{ 4|float }} {{ true|int }}", {}),
    ("f_abs_round", "{{ -3|abs }} {{ -2.5|abs }} {{ 2.675|round(2) }} {{ 2.5|round }} {{ 1.5|round }} {{ 3.14159|round(2, 'floor') }} {{ 3.14159|round(1, 'ceil') }} {{ 1234|round(-2) }} {{ 7|round }}", {}),
    ("f_round_method", "{{ 1|round(0, 'up') }}", {}),
    ("f_unique", "{{ ['a', 'A', 'b', 'a']|unique|list }}{{ ['a', 'A']|unique(case_sensitive=true)|list }}{{ people|unique(attribute='age')|map(attribute='name')|list }}", {"people": PEOPLE}),
    ("f_sort", "{{ [3, 1, 2]|sort }}{{ ['b', 'A', 'a']|sort }}{{ ['b', 'A', 'a']|sort(case_sensitive=true) }}{{ [3, 1]|sort(reverse=true) }}{{ people[:3]|sort(attribute='age,name')|map(attribute='name')|list }}", {"people": PEOPLE}),
    ("f_sort_error", "{{ [1, 'a']|sort }}", {}),
    ("f_reverse", "{{ 'abc'|reverse }}{{ [1, 2, 3]|reverse|list }}{{ (1, 2)|reverse|list }}", {}),
    ("f_indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}|{{ 'x'|indent(first=true) }}", {}),
    ("f_wordcount", "{{ 'Hello, world! foo_bar 12'|wordcount }}", {}),
    ("f_escape_safe", "{{ '<a href=\"x\">&</a>'|e }}|{{ '<b>'|safe }}|{{ '<b>'|safe|escape }}|{{ '<i>'|forceescape }}", {}),
    ("f_batch_slice", "{{ range(7)|batch(3)|list }}{{ range(7)|batch(3, 'x')|list }}{{ range(7)|slice(3)|list }}{{ range(7)|slice(3, 0)|list }}", {}),
    ("f_sum_min_max", "{{ [1, 2, 3]|sum }} {{ people[:3]|sum(attribute='age') }} {{ [3, 1, 2]|min }} {{ ['b', 'A']|max }} {{ people[:3]|max(attribute='age') }} {{ []|min is defined }} {{ [1.5, 2]|sum(start=10) }}", {"people": PEOPLE}),
    ("f_center_truncate", "[{{ 'ab'|center(6) }}][{{ 'foo bar baz qux'|truncate(9) }}][{{ 'foo bar baz qux'|truncate(9, true) }}][{{ 'foo bar baz qux'|truncate(11) }}][{{ 'foo bar baz qux'|truncate(11, false, '...', 0) }}]", {}),
    ("f_format", "{{ '%s-%d'|format('a', 3) }}|{{ '%(x)s'|format(x='y') }}|{{ '%.2f'|format(3.14159) }}", {}),
    ("f_groupby", "{% for city, items in people|groupby('city', default='?') %}{{ city }}:{{ items|map(attribute='name')|join(',') }};{% endfor %}", {"people": PEOPLE}),
    ("f_misc", "{{ 1000000|filesizeformat }} {{ 1024|filesizeformat(true) }} {{ 'a b/c'|urlencode }} {{ {'a': 1, 'b': 'x y'}|urlencode }} [{{ {'id': 'x', 'n': none}|xmlattr }}] {{ '<p>a  <b>b</b></p>'|striptags }} {{ [1, 'a']|pprint }}", {}),
    ("f_attr", "{{ d|attr('items') is callable }}{{ d|attr('a') is defined }}", {"d": D}),
    ("f_unknown_in_if", "{% if false %}{{ x|nosuchfilter }}{% endif %}ok", {}),
    ("f_unknown_in_if_taken", "{% if true %}{{ x|nosuchfilter }}{% endif %}ok", {}),
    ("f_unknown_outside_if", "{{ x|nosuchfilter }}", {}),
    ("f_unknown_test_outside_if", "{{ x is nosuchtest }}", {}),
    ("f_default_chain", "{{ d.missing|default(d.a)|string + '!' }}", {"d": D}),
    # --- tests ---
    ("t_types", "{% for v in [1, 1.5, 'a', [1], {'a': 1}, none, true, (1,)] %}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is sequence }}{{ v is mapping }}{{ v is iterable }}{{ v is none }}{{ v is boolean }}{{ v is true }}{{ v is false }};{% endfor %}", {}),
    ("t_numbers", "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 10 is divisibleby(4) }}{{ 2 is eq 2 }}{{ 2 is ne(3) }}{{ 3 is gt 2 }}{{ 3 is ge 3 }}{{ 2 is lt 3 }}{{ 2 is le 1 }}{{ 2 is in [1, 2] }}{{ 1 is sameas 1 }}{{ none is sameas none }}", {}),
    ("t_misc", "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'upper' is filter }}{{ 'odd' is test }}{{ range is callable }}{{ 'x'|safe is escaped }}{{ 'x' is escaped }}{{ x is defined }}{{ x is not defined }}", {"x": 1}),
    ("t_equalto_alias", "{{ msgs|selectattr('role', 'equalto', 'user')|list|length }}{{ msgs|selectattr('role', 'eq', 'user')|list|length }}", {"msgs": MSGS}),
    ("t_odd_string", "{{ 'a' is odd }}", {}),
    # --- Python methods ---
    ("m_strip", "[{{ '  x  '.strip() }}][{{ 'xxyxx'.strip('x') }}][{{ '  x '.lstrip() }}][{{ ' x  '.rstrip() }}][{{ 'abcba'.rstrip('ab') }}][{{ s.strip() }}]", {"s": "\n\t x \u2003"}),
    ("m_strip_bad", "{{ 'x'.strip(1) }}", {}),
    ("m_split", "{{ 'a b  c '.split() }}{{ 'a,b,,c'.split(',') }}{{ 'a,b,c'.split(',', 1) }}{{ 'a,b,c'.rsplit(',', 1) }}{{ '  a b c  '.split(none, 1) }}{{ '  a b c  '.rsplit(none, 1) }}{{ ''.split() }}{{ ''.split(',') }}{{ 'a b'.split(maxsplit=0) }}", {}),
    ("m_split_empty_sep", "{{ 'a'.split('') }}", {}),
    ("m_splitlines", "{{ 'a\\nb\\r\\nc\\rd\\n'.splitlines() }}{{ 'a\\nb'.splitlines(true) }}{{ ''.splitlines() }}", {}),
    ("m_startswith", "{{ 'hello'.startswith('he') }}{{ 'hello'.startswith(('x', 'hel')) }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith('l', 2) }}{{ 'hello'.endswith('l', 0, 4) }}{{ 'héllo'.startswith('é', 1) }}", {}),
    ("m_startswith_bad", "{{ 'x'.startswith(1) }}", {}),
    ("m_find", "{{ 'hello'.find('l') }}{{ 'hello'.rfind('l') }}{{ 'hello'.find('z') }}{{ 'héllo'.find('l') }}{{ 'hello'.index('e') }}{{ 'banana'.count('an') }}{{ 'banana'.count('') }}{{ 'hello'.find('l', 3) }}", {}),
    ("m_index_missing", "{{ 'hello'.index('z') }}", {}),
    ("m_replace", "{{ 'a-b-c'.replace('-', '+') }}{{ 'a-b-c'.replace('-', '', 1) }}{{ 'ab'.replace('', '.') }}", {}),
    ("m_case", "{{ 'hello World'.title() }} {{ 'o\\'neil mcdonald'.title() }} {{ 'hELLO'.capitalize() }} {{ 'Hello'.swapcase() }} {{ 'ǈ'.upper() }} {{ 'ΣΑΣ ΣΑΣ'.lower() }} {{ 'ß'.casefold() }}", {}),
    ("m_predicates", "{{ '123'.isdigit() }}{{ '12a'.isdigit() }}{{ 'abc'.isalpha() }}{{ 'ab1'.isalnum() }}{{ '  '.isspace() }}{{ ''.isspace() }}{{ 'Abc'.istitle() }}{{ 'abc'.islower() }}{{ 'ABC'.isupper() }}{{ '½'.isnumeric() }}{{ '½'.isdigit() }}{{ 'x_1'.isidentifier() }}{{ 'é'.isascii() }}", {}),
    ("m_format", "{{ '{} {}'.format(1, 'a') }}|{{ '{1}{0}'.format('a', 'b') }}|{{ '{x}!'.format(x=3) }}|{{ '{0[a]}-{0.b}'.format(d) }}|{{ '{:>5}|{:<4}|{:^7}|{:*^7}'.format('ab', 'c', 'mid', 'x') }}|{{ '{:.2f} {:5d} {:05.1f} {:,} {:x} {:#b} {:e} {:%}'.format(3.14159, 42, 2.5, 1234567, 255, 5, 12345.678, 0.25) }}|{{ '{!r} {!s}'.format('q', 5) }}|{{ '{{literal}}'.format() }}", {"d": {"a": 1, "b": 2}}),
    ("m_format_errors", "{{ '{}'.format() }}", {}),
    ("m_format_switch", "{{ '{0}{}'.format(1, 2) }}", {}),
    ("m_format_float_default", "{{ '{} {:.3} {:g} {:10.4}'.format(1.0, 1234567.0, 0.0001, 3.14159265) }}", {}),
    ("m_join", "{{ ', '.join(['a', 'b']) }}{{ ''.join('abc') }}", {}),
    ("m_join_bad", "{{ ','.join([1, 2]) }}", {}),
    ("m_misc_str", "{{ 'ab'.center(6, '*') }}|{{ 'ab'.ljust(4) }}|{{ 'ab'.rjust(4) }}|{{ '-42'.zfill(6) }}|{{ 'a=b=c'.partition('=') }}|{{ 'a=b=c'.rpartition('=') }}|{{ 'prefix_x'.removeprefix('prefix_') }}|{{ 'x.txt'.removesuffix('.txt') }}|{{ 'a\\tb'.expandtabs(4) }}", {}),
    ("m_dict", "{{ d.get('a') }}{{ d.get('z') }}{{ d.get('z', 0) }}{{ d.keys()|list }}{{ d.values()|list }}{{ d.items()|list }}{{ d.keys() }}{{ d.copy() }}{{ 'a' in d.keys() }}{{ d.items()|length }}", {"d": D}),
    ("m_dict_update_refused", "{% set _ = d.update({'x': 1}) %}", {"d": D}),
    ("m_dict_pop_refused", "{{ d.pop('a') }}", {"d": D}),
    ("m_list", "{{ xs.index(2) }}{{ xs.count(1) }}{{ xs.copy() }}", {"xs": [1, 2, 1]}),
    ("m_list_append_refused", "{% set _ = xs.append(1) %}", {"xs": [1]}),
    ("m_list_append_attr", "{{ xs.append is defined }}[{{ xs.append }}]", {"xs": [1]}),
    ("m_list_index_missing", "{{ xs.index(9) }}", {"xs": [1]}),
    ("m_unsafe_dunder", "{{ ''.__class__ }}", {}),
    ("m_percent", "{{ '%s and %s' % ('a', 'b') }}|{{ '%d%%' % 5 }}|{{ '%5.1f|%-4d|%04d|%x|%r' % (3.14159, 7, 42, 255, 'q') }}|{{ '%(a)s' % {'a': 1} }}|{{ '%s' % [1, 2] }}", {}),
    ("m_percent_errors", "{{ '%s %s' % ('a',) }}", {}),
    ("m_number_methods", "{{ (2.0).is_integer() }}{{ (5).bit_length() }}{{ x.real }}", {"x": 3}),
    # --- globals ---
    ("g_dict", "{{ dict(a=1, b=2) }}{{ dict([('x', 1)]) }}{{ dict() }}{{ dict.fromkeys(['a', 'b'], 0) }}", {}),
    ("g_raise", "{% if true %}{{ raise_exception('Bad role: ' ~ 'x') }}{% endif %}", {}),
    ("g_raise_line", "a\nb\n{{ raise_exception('on line 3') }}", {}),
    ("g_strftime", "{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%d %B %Y') }}|{{ strftime_now('%A %a %b %j %H:%M:%S %p %y %U %W %w %u') }}|{{ strftime_now('%-d %-m') }}|{{ strftime_now('%e|%D|%F|%T|%G-%V') }}", {}),
    ("g_cycler_joiner", "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}{% set j = joiner('|') %}{% for x in 'xyz' %}{{ j() }}{{ x }}{% endfor %}", {}),
    # --- errors with lines ---
    ("err_syntax_unexpected", "line1\n{{ a +* b }}", {}),
    ("err_syntax_unclosed_for", "{% for x in y %}\nbody", {}),
    ("err_syntax_unclosed_if_nested", "{% for x in y %}{% if x %}\n{% endfor %}", {}),
    ("err_syntax_unknown_tag", "\n\n{% frobnicate %}", {}),
    ("err_syntax_empty_if", "{% if %}{% endif %}", {}),
    ("err_syntax_bad_token", "{{ x.1a }}", {}),
    ("err_syntax_unterminated_string", "{{ \"abc }}", {}),
    ("err_syntax_unclosed_comment", "a {# never closed", {}),
    ("err_syntax_unclosed_variable", "{{ x", {}),
    ("err_syntax_bracket", "{{ [1, 2) }}", {}),
    ("err_syntax_endif_extra", "{% endif %}", {}),
    ("err_syntax_macro_default_order", "{% macro m(a=1, b) %}{% endmacro %}", {}),
    ("err_syntax_assign_const", "{% set 1 = 2 %}", {}),
    ("err_syntax_chained_test", "{{ x is defined is defined }}", {}),
    ("err_syntax_nesting_mistake", "{% if x %}{% endfor %}", {}),
    ("err_runtime_line", "ok\n{% for m in msgs %}\n{{ m.content + 1 }}\n{% endfor %}", {"msgs": MSGS}),
    ("err_type_call", "{{ 'x'() }}", {}),
    ("err_not_iterable_join", "{{ 5|join }}", {}),
    # --- generation spans (transformers' {% generation %}) ---
    ("gen_basic", "{% for m in msgs %}<{{ m.role }}>{% if m.role == 'assistant' %}{% generation %}{{ m.content }}</s>{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}", {"msgs": MSGS}),
    ("gen_scope", "{% set x = 1 %}{% generation %}{% set x = 2 %}{{ x }}{% endgeneration %}{{ x }}", {}),
    ("gen_in_macro", "pre{% macro m() %}ab{% generation %}cd{% endgeneration %}{% endmacro %}é{{ m() }}", {}),
]


def random_cases(seed=20260115):
    """Seeded random inputs: floats of every magnitude, strings over a tricky alphabet, integers."""
    import random, struct
    rng = random.Random(seed)
    cases = []
    floats = []
    for _ in range(400):
        kind = rng.random()
        if kind < 0.3:  # any finite double
            while True:
                x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
                if x == x and abs(x) != float("inf"):
                    break
        elif kind < 0.6:  # short decimals
            x = round(rng.uniform(-1000, 1000), rng.randint(0, 6))
        elif kind < 0.8:  # powers of ten and neighbours (repr layout boundaries)
            x = 10.0 ** rng.randint(-20, 22) * rng.choice([1, -1, 1.5, 9.999999, 1.0000001])
        else:
            x = rng.randint(-10**6, 10**6) / rng.choice([3, 7, 10, 100, 1024])
        floats.append(x)
    for i in range(0, len(floats), 40):
        chunk = floats[i:i + 40]
        cases.append((f"rand_float_repr_{i // 40}", "{{ xs }}|{{ xs|tojson }}|{% for x in xs %}{{ x }},{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_float_ops_{i // 40}", "{% for x in xs %}{{ x * 3 }} {{ x / 7 }} {{ x // 3 }} {{ x % 3 }} {{ x|round(3) }} {{ x|int if x|abs < 1e18 else 'big' }}|{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_float_format_{i // 40}", "{% for x in xs %}{{ '%.3f|%e|%g|%.10g' % (x, x, x, x) }} {{ '{:.4g} {:e} {:.2f} {:.1%} {}'.format(x, x, x, x, x) }}|{% endfor %}", {"xs": chunk}))
    alphabet = list("abcXYZ  \t\n\r\x0b\x0c123_-.,;:!?'\"\\/<>&(){}[]") + \
        ["ß", "Σ", "σ", "ς", "é", "É", "ǅ", "ǆ", "ﬁ", "İ", "ı", "中", "文", "🙂", "👍🏽", "e\u0301", "\u00a0", "\u2003", "\u3000",
         "\u2028", "\x85", "\x1c", "\u200b", "\x00", "\x7f", "Ω", "ω", "ǈ", "Ⅻ", "½", "٣", "ŉ", "ǰ"]
    strings = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(240)]
    for i in range(0, len(strings), 30):
        chunk = strings[i:i + 30]
        n = i // 30
        cases.append((f"rand_str_case_{n}", "{% for s in xs %}{{ [s.upper(), s.lower(), s.title(), s.capitalize(), s.swapcase(), s|title, s|capitalize] }}{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_str_split_{n}", "{% for s in xs %}{{ [s.split(), s.split(' '), s.rsplit(none, 1), s.splitlines(), s.splitlines(true), s.strip(), s.lstrip(), s.rstrip('a '), s|trim] }}{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_str_repr_json_{n}", "{% for s in xs %}{{ [s] }}{{ s|tojson }}{{ s|tojson(ensure_ascii=true) }}{{ {s: 1} }}{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_str_index_{n}", "{% for s in xs %}{{ [s|length, s[1:-1], s[::-1], s[::2], s.find('a'), s.count(' '), s.replace(' ', '_'), s|wordcount, s.center(18, '*'), s.isalnum(), s.isspace(), s.istitle()] }}{% endfor %}", {"xs": chunk}))
        cases.append((f"rand_str_format_{n}", "{% for s in xs %}{{ '{:>16}|{:^15}|{!r}|%s|%r' .format(s, s, s) % (s, s) }}{% endfor %}", {"xs": chunk}))
    ints = [rng.randint(-10**9, 10**9) for _ in range(60)] + [rng.randint(-50, 50) for _ in range(60)]
    pairs = [(a, b) for a, b in zip(ints, ints[1:] + ints[:1]) if b != 0]
    cases.append(("rand_int_ops", "{% for a, b in ps %}{{ [a + b, a - b, a * b, a // b, a % b, a / b, a ** 2 if a|abs < 10**4 else 0, -a, a < b, a == b] }}{% endfor %}", {"ps": pairs}))
    cases.append(("rand_int_format", "{% for a, b in ps %}{{ '{:,} {:x} {:+d} {:08d} {:o}'.format(a, a|abs, a, b, a|abs) }} {{ '%5d|%-6d|%x' % (a, b, a|abs) }}|{% endfor %}", {"ps": pairs}))
    return cases


CASES += random_cases()

REASONING = [
    {"role": "user", "content": "q"},
    {"role": "assistant", "content": "a1", "reasoning_content": "r1"},
    {"role": "assistant", "content": "a2", "thinking": "t2"},
    {"role": "assistant", "content": "a3", "reasoning": "x3", "extra": 1},
    {"role": "assistant", "content": "a4", "thinking": "t4", "reasoning_content": "r4"},
    {"role": "assistant", "content": "a5", "reasoning_content": None, "thinking": "t5"},
    {"role": "assistant", "content": None, "tool_calls": None, "name": "n"},
]
CHAT_CASES = [
    ("chat_alias_reasoning", "{% for m in messages %}{{ m }}\n{% endfor %}", {"messages": REASONING}),
    ("chat_normalize_nulls", "{% for m in messages %}{{ m }}\n{% endfor %}", {"messages": REASONING, "normalize": True}),
    ("chat_variables", "{{ messages|length }} {{ tools }} {{ documents }} {{ add_generation_prompt }} {{ bos_token }} {{ enable_thinking }} {{ custom }}",
     {"messages": MSGS, "add_generation_prompt": True, "kwargs": {"bos_token": "<s>", "enable_thinking": False, "custom": [1, {"a": None}]}}),
    ("chat_tools_documents", "{{ tools|tojson }}|{% for d in documents %}{{ d.title }}:{{ d.text }};{% endfor %}",
     {"messages": MSGS, "tools": TOOLS, "documents": [{"title": "T", "text": "body é"}]}),
    ("chat_empty_tools", "[{{ tools }}][{{ tools is none }}]", {"messages": MSGS, "tools": []}),
    ("chat_not_a_dict", "x", {"messages": [{"role": "user", "content": "a"}, "oops"]}),
]


def render_chat(source, chat):
    messages = chat["messages"]
    if chat.get("normalize"):
        messages = ctu._normalize_chat_messages(messages)
    out, _ = ctu.render_jinja_template(conversations=[messages], tools=chat.get("tools"), documents=chat.get("documents"),
                                       chat_template=source, add_generation_prompt=chat.get("add_generation_prompt", False),
                                       **chat.get("kwargs", {}))
    return out[0]


def render(source, context):
    compiled = ctu._compile_jinja_template(source)
    if re.search(r"\{%-?\s*generation\s*-?%\}", source):
        text, indices = ctu._render_with_assistant_indices(compiled, messages=context.get("messages"), tools=None,
                                                           documents=None, add_generation_prompt=False,
                                                           **{k: v for k, v in context.items() if k != "messages"})
        return text, indices
    return compiled.render(**context), None


def error_line(e):
    if getattr(e, "lineno", None):
        return e.lineno
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename == "<template>":
            return frame.lineno
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        for name, source, context in CASES:
            rec = {"name": name, "template": source, "context": context}
            try:
                text, gen = render(source, context)
                rec["text"] = text
                if gen is not None:
                    rec["generation"] = [[len(text[:s].encode()), len(text[:e].encode())] for s, e in gen]
            except Exception as e:  # noqa: BLE001 - every exception is a reference outcome
                rec["error"] = f"{type(e).__name__}: {e}"
                rec["line"] = error_line(e)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        for name, source, chat in CHAT_CASES:
            rec = {"name": name, "template": source, "chat": chat}
            try:
                rec["text"] = render_chat(source, chat)
            except Exception as e:  # noqa: BLE001
                rec["error"] = f"{type(e).__name__}: {e}"
                rec["line"] = None
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(CASES) + len(CHAT_CASES)} cases -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
