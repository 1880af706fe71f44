"""Fuzz the loader and the renderer: random and mutated scenario TOML yields a valid scenario that
renders, or the harness's own located errors (ScenarioError), never another exception.

A few hundred examples per test in the default run; with ``-m fuzz`` (or
NIXOS_NSPAWN_FUZZ_EXAMPLES=N) ten thousand. Every input that ever crashed is kept in
``regressions/`` and loaded by :func:`test_regression_file`.
"""

import contextlib
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.catalogue import SCENARIOS_DIR, find_root
from harness.checks import CHECKS
from harness.checks.registry import STEPS
from harness.render.nixos_test import render_scenario
from harness.scenario.load import load_scenario, parse_scenario
from harness.scenario.model import ScenarioError

HERE = Path(__file__).parent
REGRESSIONS = HERE / "regressions"
CORPUS = [
    path.read_text()
    for path in (
        *sorted((find_root(HERE) / SCENARIOS_DIR).glob("*.toml")),
        HERE / "hostile.toml",
        *sorted(REGRESSIONS.glob("*.toml")),
    )
]
SHORT, LONG = 200, 10_000  # per test; two tests make the default run's few hundred
LOCATED = re.compile(r"fuzz\.toml(:\d+)?: \S.*?: \S")


@pytest.fixture
def examples(request) -> int:
    """How many examples: LONG when the -m expression selects the fuzz marker."""
    if "NIXOS_NSPAWN_FUZZ_EXAMPLES" in os.environ:
        return int(os.environ["NIXOS_NSPAWN_FUZZ_EXAMPLES"])
    markexpr = request.config.getoption("markexpr") or ""
    return LONG if re.search(r"(?<!not )\bfuzz\b", markexpr) else SHORT


def check(text: str, path: Path = Path("fuzz.toml")) -> None:
    """The oracle: a scenario that renders, or only located, one-line, visible errors."""
    try:
        scenario = parse_scenario(path, text)
    except ScenarioError as error:
        problems = error.errors
    else:  # imported paths are relative to the rendering's place: here, next to the file
        render_scenario(scenario, path.name, path.absolute().parent)
        return
    assert problems
    for problem in problems:
        printed = str(problem)
        assert LOCATED.match(printed), printed
        assert printed.isprintable(), printed


# --- mutated catalogue files --------------------------------------------------------------

PIECES = [
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    '\\"',
    "\n",
    "\r\n",
    "#",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ".",
    "=",
    " ",
    "\t",
    "0",
    "-1",
    "1e3",
    "true",
    "inf",
    "1979-05-27",
    "\u202e",
    "\u200b",
    "\x00",
    "\x7f",
    "é",
    "${",
    "''",
    "[[expect]]\n",
    "[host]\n",
    "[containers.web]\n",
    'imports = ["flake.nix", "nix"]\n',
    'modules = ["web"]\n',
    'check = "userns"\n',
    "[[step]]\n",
    'action = "restart"\n',
    '[[step]]\naction = "mark"\nname = "m"\n',
    'check = "unchanged"\ncontainer = "web"\nsince = "m"\n',
    'action = "partition"\nbetween = "web"\nand = "host"\n',
    'action = "kill-unit"\ncontainer = "web"\nunit = "a@b.service"\n',
    'then = "stays-down"\n',
    "x = 1\n",
    "expect = []\n",
    "timeout = 2143885\n",
    '"a" = { b = [1, { c = 2 }] }\n',
    "[" * 40 + "]" * 40,
    '\\"""',
    '"""',
    "[" * 600 + "]" * 600,
    "{a=" * 400 + "1" + "}" * 400,
    # issue #28: names the driver owns, paths that climb, values that read as options,
    # lengths, nesting beyond Python's recursion
    "[nodes.vlan1]\n",
    "[nodes.machines]\n",
    "[nodes." + "n" * 64 + "]\n",
    "/..",
    "/./",
    "//",
    "-.mount",
    "--help",
    'unit = "-x"\n',
    '[[step]]\naction = "wait-unit"\nunit = "-.mount"\n',
    'interface = "-eth0"\n',
    "[" * 5000 + "]" * 5000,
    "{a=" * 3000 + "1" + "}" * 3000,
    "[" + "a." * 1500 + "a]\n",
    "s" * 256,
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "text"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        elif action == "duplicate":
            lines = text.split("\n")
            line = lines[draw(st.integers(0, len(lines) - 1))]
            lines.insert(draw(st.integers(0, len(lines))), line)
            text = "\n".join(lines)
        else:
            text = text[:at] + draw(st.text(max_size=6)) + text[at:]
    return text


# --- random scenario-shaped documents -------------------------------------------------------

TRICKY = st.text(
    st.sampled_from(
        [
            *"aZ09-_ ./:%${}'\"\\\n\r\t,=#[]",
            "\x00",
            "\x1b",
            "\u202e",
            "\u200b",
            "\u2028",
            "é",
            "\U0001f600",
        ]
    ),
    max_size=12,
)
NAMES = st.one_of(
    st.sampled_from(
        [
            *["web", "WEB", "db", "host", "a" * 13, "x-", "lab", "vlan1", "vlan42", "machines"],
            *["debug", "o" * 63, "o" * 64, "s" * 256, "-x", "-.mount", "nginx.service", "-eth0"],
        ]
    ),
    TRICKY,
)
SCALARS = st.one_of(
    TRICKY,
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.sampled_from([0, -1, 604800, 604801, 2143885, 2**63 - 1, 2**63]),
    st.floats(allow_nan=True),
    st.datetimes().map(lambda moment: moment.isoformat()),
)


def containing(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3))


VALUES = st.recursive(SCALARS, containing, max_leaves=12)
NIX = st.one_of(st.sampled_from(["{ }", "{ pkgs, ... }: { }", "{ a = ; }", "x", ""]), TRICKY)
# `imports` are relative to the scenario file, fuzz.toml in the working directory (the
# repository: flake.nix and nix/default.nix exist there, so some are accepted and rendered).
PATHS = st.one_of(
    st.sampled_from(
        ["flake.nix", "nix", "./nix/", "nix/host.nix", "../x.nix", "/etc/hosts", "~/x", "", ".."]
    ),
    st.sampled_from(["<nixpkgs>", "https://x/y.nix", "${x}", "nix/../flake.nix", "missing.nix"]),
    TRICKY,
)
USER_CODE = {
    "imports": st.one_of(st.lists(PATHS, max_size=3), VALUES),
    "modules": st.one_of(st.lists(st.one_of(NAMES, TRICKY), max_size=3), VALUES),
}


def keyed(known: list[str], values: st.SearchStrategy) -> st.SearchStrategy:
    """Tables of mostly known keys (and some others) with ``values``."""
    return st.dictionaries(st.one_of(st.sampled_from(known), NAMES), values, max_size=5)


PATHS = ["/var/lib/a", "/var/lib/../../etc", "/dev/.", "/a//b", "/a/", "/" + "a" * 256]
"""Paths that name what they read as, and paths that do not (issue #28)."""
BIND = keyed(
    ["hostPath", "readOnly", "idmap", "options"], st.one_of(st.sampled_from(PATHS), VALUES)
)
VETH = keyed(
    ["enable", "zone", "config"],
    st.one_of(VALUES, st.fixed_dictionaries({}, optional={"host": VALUES, "container": VALUES})),
)
CONTAINER = st.fixed_dictionaries(
    {},
    optional={
        "config": NIX,
        "path": st.one_of(
            TRICKY,
            st.sampled_from(["/nix/store/a-system", "/nix/store/a-system/..", "/nix//store"]),
            VALUES,
            st.fixed_dictionaries({}, optional={"config": NIX, "extra": VALUES}),
        ),
        "autoStart": VALUES,
        "restartIfChanged": st.booleans(),
        "binds": st.dictionaries(st.one_of(st.sampled_from(PATHS), TRICKY), BIND, max_size=2),
        "network": st.one_of(VALUES, st.fixed_dictionaries({"veth": VETH})),
        "extra": VALUES,
        **USER_CODE,
    },
)
EXPECT = st.builds(
    lambda check, params: {"check": check, **params},
    st.one_of(st.sampled_from(sorted(CHECKS)), TRICKY),
    keyed(
        sorted({param.name for spec in CHECKS.values() for param in spec.params}),
        st.one_of(NAMES, VALUES),
    ),
)
STEP = st.builds(
    lambda action, params: {"action": action, **params},
    st.one_of(st.sampled_from(sorted(STEPS)), TRICKY),
    keyed(
        sorted({param.name for spec in STEPS.values() for param in spec.params}),
        st.one_of(NAMES, VALUES),
    ),
)
DOCUMENTS = st.fixed_dictionaries(
    {"description": st.one_of(TRICKY, VALUES)},
    optional={
        "timeout": st.one_of(SCALARS, VALUES),
        "host": st.one_of(
            st.fixed_dictionaries(
                {"config": NIX},
                optional={
                    **USER_CODE,
                    "specialisations": st.one_of(
                        st.dictionaries(
                            NAMES,
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    "config": NIX,
                                    **USER_CODE,
                                    "containers": st.dictionaries(
                                        NAMES, st.fixed_dictionaries({"config": NIX}), max_size=2
                                    ),
                                },
                            ),
                            max_size=2,
                        ),
                        VALUES,
                    ),
                },
            ),
            VALUES,
        ),
        "nodes": st.one_of(
            st.dictionaries(
                NAMES, st.fixed_dictionaries({"config": NIX}, optional=USER_CODE), max_size=2
            ),
            VALUES,
        ),
        "containers": st.one_of(st.dictionaries(NAMES, CONTAINER, max_size=3), VALUES),
        "expect": st.one_of(st.lists(EXPECT, max_size=3), VALUES),
        "step": st.one_of(st.lists(STEP, max_size=2), VALUES),
        "extra": VALUES,
    },
)


def toml_string(text: str) -> str:
    return (
        '"'
        + "".join(
            "\\" + char
            if char in '"\\'
            else f"\\u{ord(char):04x}"
            if ord(char) < 0x20 or ord(char) == 0x7F
            else char
            for char in text
        )
        + '"'
    )


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def document(data: dict[str, object]) -> str:
    """``data`` as TOML; integers beyond 64 bits are written too (tomllib reads any size)."""
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in data.items())


# --- the tests ------------------------------------------------------------------------------


def run(strategy: st.SearchStrategy, examples: int, transform=lambda value: value) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def property_(value: object) -> None:
        check(transform(value))

    property_()


@pytest.mark.fuzz
def test_mutated_scenario_files(examples: int) -> None:
    run(mutated(), examples)


@pytest.mark.fuzz
def test_random_scenario_documents(examples: int) -> None:
    run(DOCUMENTS, examples, document)


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.toml")), ids=lambda path: path.name)
def test_regression_file(path: Path) -> None:
    """Every input a fuzz run (or the issue) found crashing: now a scenario or located errors."""
    check(path.read_text(), Path("fuzz.toml"))
    with contextlib.suppress(ScenarioError):  # read from the file as well
        load_scenario(path)
