"""harness.render.escape: values survive Python → Nix/Python text → evaluation exactly.

The Nix side batches many hypothesis examples into one ``nix-instantiate --eval --strict --json``
call (a list of all rendered values), so the property test stays fast on two cores.
"""

import ast
import json
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.render.escape import (
    NixEscapeError,
    nix_attr_name,
    nix_multiline_string,
    nix_string,
    py_string,
    to_nix,
    to_python,
)
from harness.scenario.nixvalues import NixCode
from harness.scenario.unit_values import MODULE_SYSTEM_KEYS

needs_nix = pytest.mark.skipif(
    shutil.which("nix-instantiate") is None, reason="nix-instantiate not installed"
)

# Characters that are special somewhere: Nix strings ($ { ' " \), indentation, line ends,
# non-ASCII (2-, 3- and 4-byte UTF-8), control characters. NUL has no Nix representation.
TRICKY = [
    "${",
    "''",
    "'''",
    "''$",
    "$",
    "\\",
    '"',
    "'",
    "\n",
    "\r",
    "\t",
    " ",
    "#",
    "{",
    "}",
    "é",
    "√",
    "😀",
    "\x01",
    "\x7f",
    "''\\",
    "\\n",
    "*/",
    "/*",
]
toml_chars = st.characters(exclude_characters="\0", exclude_categories=("Cs",))
text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(toml_chars, max_size=8)),
    max_size=12,
).map("".join)
# Keys that Nix takes as data: `outPath` & co. are refused (see below).
keys = text.filter(lambda key: key not in MODULE_SYSTEM_KEYS)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
scalars = st.one_of(text, ints, st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


@pytest.mark.parametrize("key", sorted(MODULE_SYSTEM_KEYS))
def test_module_system_keys_are_refused_at_any_depth(key: str) -> None:
    # Nix would take such a set for a string, a function or a module-system property: an
    # attribute set with `outPath` serialises as its outPath, not as the set.
    for value in ({key: 1}, {"a": {key: "x"}}, [{"b": 1, "c": {"d": {key: True}}}]):
        with pytest.raises(NixEscapeError, match=re.escape(f"attribute name {key!r}")):
            to_nix(value)
    # a longer name is data like any other
    assert f"{key}s = 1;" in to_nix({f"{key}s": 1})


def nix_eval(exprs: list[str]) -> object:
    """Evaluate a Nix list of the given expressions to JSON in one process."""
    source = "[\n" + "\n".join(f"({expr})" for expr in exprs) + "\n]\n"
    # A file, not -E: one command-line argument is limited to 128 KiB.
    with tempfile.NamedTemporaryFile("w", suffix=".nix", encoding="utf-8") as file:
        file.write(source)
        file.flush()
        result = subprocess.run(
            ["nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json", file.name],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr + source
    return json.loads(result.stdout)


class Batch:
    """Collects hypothesis examples, checks them against Nix in a few large calls."""

    def __init__(self) -> None:
        self.values: list[object] = []
        self.exprs: list[str] = []

    def add(self, value: object, expr: str) -> None:
        self.values.append(value)
        self.exprs.append(expr)

    def check(self) -> None:
        assert self.values, "hypothesis generated no examples"
        got = nix_eval(self.exprs)
        assert isinstance(got, list)
        assert len(got) == len(self.values), self.exprs
        # Each example on its own, with its Nix expression, so that a failure shows which.
        for value, expr, result in zip(self.values, self.exprs, got, strict=True):
            assert result == value, f"{value!r} -> Nix {expr} -> {result!r}"


QUICK = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@needs_nix
def test_values_round_trip_through_nix() -> None:
    batch = Batch()

    @QUICK
    @given(values)
    def collect(value: object) -> None:
        batch.add(value, to_nix(value, indent=2))

    collect()
    batch.check()


@needs_nix
def test_strings_round_trip_through_both_nix_string_forms() -> None:
    batch = Batch()

    @QUICK
    @given(text, st.integers(min_value=0, max_value=3))
    def collect(value: str, indent: int) -> None:
        batch.add(value, nix_string(value))
        batch.add(value, nix_multiline_string(value, indent))
        # Multi-line scripts: the readable '' form is used and must be exact too.
        script = "x = 1\n" + value + "\n"
        batch.add(script, nix_multiline_string(script, indent))

    collect()
    batch.check()


@needs_nix
def test_attr_names_round_trip_through_nix() -> None:
    batch = Batch()

    @QUICK
    @given(st.lists(text, min_size=1, max_size=5, unique=True))
    def collect(names: list[str]) -> None:
        expr = "{ " + " ".join(f"{nix_attr_name(n)} = {i};" for i, n in enumerate(names)) + " }"
        batch.add(dict(zip(names, range(len(names)), strict=True)), expr)

    collect()
    batch.check()


@needs_nix
def test_scripts_use_the_readable_form_and_stay_exact() -> None:
    script = "a = 'x'\nif a:\n    b = \"${HOME}\" + '' + \"''\"\n\n  \nc = '$'\n'''\t'\n\tx'\n"
    literal = nix_multiline_string(script, indent=1)
    assert literal.startswith("''\n")
    assert nix_eval([literal]) == [script]


@given(values)
@settings(max_examples=300, deadline=None)
def test_values_round_trip_through_python_literals(value: object) -> None:
    assert ast.literal_eval(to_python(value)) == value


@given(text)
@settings(max_examples=300)
def test_python_string_literals_are_one_line_and_free_of_nix_specials(value: str) -> None:
    literal = py_string(value)
    assert ast.literal_eval(literal) == value
    assert literal.isascii()
    assert not set(literal) & set("\n\r'${}")


def test_python_tuples_and_none() -> None:
    value = (("a", None), (1,), ())
    assert ast.literal_eval(to_python(value)) == value


def test_bare_and_quoted_attr_names() -> None:
    assert nix_attr_name("networkConfig") == "networkConfig"
    assert nix_attr_name("a-b'c_1") == "a-b'c_1"
    assert nix_attr_name("/var/lib/web") == '"/var/lib/web"'
    assert nix_attr_name("in") == '"in"'
    assert nix_attr_name("1abc") == '"1abc"'
    assert nix_attr_name("${x}") == '"\\${x}"'


def test_negative_ints_stay_list_elements() -> None:
    assert to_nix([1, -2]) == "[ 1 (-2) ]"


def test_unrepresentable_values_are_rejected() -> None:
    with pytest.raises(NixEscapeError):
        to_nix(1.5)
    with pytest.raises(NixEscapeError):
        to_nix("a\0b")
    with pytest.raises(NixEscapeError):
        to_nix(2**63)
    with pytest.raises(NixEscapeError):
        to_nix({1: "x"})


def test_nix_code_is_imported_from_a_file_of_its_own() -> None:
    expr = to_nix(NixCode("{ a = 1; }"))
    assert expr.startswith('(import (builtins.toFile "scenario-config.nix" ')
    assert expr.endswith("))")


@needs_nix
def test_nix_code_evaluates_exactly_as_written() -> None:
    # A comment cannot swallow anything, and the content of a multi-line string keeps its
    # (lack of) indentation although the generated module indents the code.
    expr = to_nix(
        {
            "a": NixCode("1 + 1 # comment"),
            "b": NixCode("{ x = 2; }\n"),
            "c": NixCode('{\n  text = "line1\nline2 ${toString 3}";\n}'),
            "d": NixCode("  ''\n    indented\n  ''"),
        },
        indent=2,
    )
    assert nix_eval([expr]) == [
        {"a": 2, "b": {"x": 2}, "c": {"text": "line1\nline2 3"}, "d": "indented\n"}
    ]


@needs_nix
@pytest.mark.parametrize(
    "code",
    [
        "1; injected = 2",
        '{ }); }; testScript = "print(666)"; zz = ({ ',
        "{ } # comment\n; injected = 2",
    ],
)
def test_nix_code_cannot_reach_the_surrounding_expression(code: str) -> None:
    # Code that would close the generated attribute set fails on its own instead of adding
    # attributes to it.
    source = "{ a = " + to_nix(NixCode(code)) + "; }"
    result = subprocess.run(
        ["nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json", "-E", source],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    assert "syntax error" in result.stderr
    assert "scenario-config.nix" in result.stderr


def test_single_attribute_sets_are_dotted_paths() -> None:
    assert to_nix({"network": {"veth": {"zone": "lab"}}}) == '{\n  network.veth.zone = "lab";\n}'
    assert to_nix({"a": {"b": {"c": 1, "d": 2}}, "e": {}}) == (
        "{\n  a.b = {\n    c = 1;\n    d = 2;\n  };\n  e = { };\n}"
    )
    assert to_nix({"binds": {"/var/lib/x": {"readOnly": True}}}) == (
        '{\n  binds."/var/lib/x".readOnly = true;\n}'
    )
    with pytest.raises(NixEscapeError):
        to_nix({"a": {1: "x"}})
