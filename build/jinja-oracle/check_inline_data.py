"""Cross-checks every [InlineData(template, expected)] in the focused C# tests against jinja2 in
HF's environment, with the variables of tests/Jinja.cs. C# regular string literals use the same
escapes as Python's, so each argument is read with ast.literal_eval. ErrorTests.cs is skipped: its
expected strings are this interpreter's own error messages.

    python3 build/jinja-oracle/check_inline_data.py tests/NotebookLens.Tests/Templates"""
import ast
import glob
import re
import sys

from hf_env import make_env

VARS = {"xs": [3, 1, 2], "d": {"b": 1, "a": 2}, "s": "  Hello World  ", "n": 7, "f": 2.5, "t": True,
        "nothing_here": None,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}
STRING = r'"(?:[^"\\]|\\.)*"'
INLINE = re.compile(rf'\[InlineData\(({STRING}), ({STRING})\)\]')

env = make_env()
bad = checked = 0
for path in sorted(p for p in glob.glob(sys.argv[1] + "/*Tests.cs") if not p.endswith("ErrorTests.cs")):
    for m in INLINE.finditer(open(path, encoding="utf-8").read()):
        template, expected = (ast.literal_eval(g) for g in m.groups())
        checked += 1
        try:
            got = env.from_string(template).render(**VARS)
        except Exception as exc:  # noqa: BLE001
            got = f"<{type(exc).__name__}: {exc}>"
        if got != expected:
            bad += 1
            print(f"{path}: {template!r}\n  jinja2: {got!r}\n  test:   {expected!r}")
print(f"{checked} InlineData pairs checked, {bad} differ from jinja2")
