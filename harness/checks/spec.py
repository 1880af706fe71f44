"""Declarations of the checks' parameters, and their validation.

The scenario loader validates every ``[[expect]]`` table against these declarations (it adds file
and line, and checks node names with :attr:`Param.node`); :class:`harness.checks.Session`
validates again at run time, so a hand-written testScript gets the same messages.
"""

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .names import interface_name_problem

HOST = "host"
"""The node name of the VM that runs the containers."""


@dataclass(frozen=True)
class Problem:
    """A parameter problem: the TOML key it is about, and what is wrong."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass(frozen=True)
class Param:
    """One TOML parameter of a check.

    ``node``: the value names a node, i.e. ``"host"``, a container or a ``[nodes]`` VM (the loader
    knows the scenario's; this module does not); ``vm``: such a node that must be a VM, the
    host or a ``[nodes]`` VM, not a container. ``default`` is ignored when ``required``;
    ``None`` as default means "optional, absent unless given". ``bounds``: the inclusive range
    of an integer parameter; ``grammar``: why a string is not what the parameter names (e.g.
    :func:`harness.checks.names.unit_name_problem`), for values that reach a command line.
    """

    name: str
    type: type
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    node: bool = False
    vm: bool = False
    doc: str = ""
    bounds: tuple[int, int] | None = None
    grammar: Callable[[str], str | None] | None = None

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` for this parameter, or None."""
        # bool is an int subclass: `port = true` must not pass as an integer.
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            return f"expected {type_name(self.type)}, got {describe(value)}"
        if self.choices and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            return f"expected one of {allowed}, got {value!r}"
        if isinstance(value, str) and "\0" in value:
            return "strings cannot contain NUL characters"
        if self.bounds is not None and isinstance(value, int):
            low, high = self.bounds
            if not low <= value <= high:
                return f"must be within {low}..{high}, got {value}"
        if self.grammar is not None and isinstance(value, str):
            return self.grammar(value)
        return None


Rule = Callable[[Mapping[str, object]], list[Problem]]
"""A check of several parameters together, run on the valid parameters with defaults (a wrong or
missing one is absent, so rules read parameters with ``.get``)."""


@dataclass(frozen=True)
class CheckSpec:
    """A check: its TOML name, what it proves, its parameters and its expectation label.

    The expectation id is ``f"{name}[{label(params)}]"`` (see :meth:`expectation_id`).
    """

    name: str
    doc: str
    params: tuple[Param, ...]
    label: Callable[[Mapping[str, object]], str]
    rules: tuple[Rule, ...] = field(default=())

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(f"check {self.name!r} has no parameter {name!r}")

    def validate(self, params: Mapping[str, object]) -> list[Problem]:
        """Every problem with ``params`` (without the ``check`` key) at once: unknown or missing
        keys, wrong values, then the check's cross-parameter rules. The rules see only the valid
        parameters (a wrong one is left out, not replaced by its default), and a rule's problem
        with a parameter already reported is dropped."""
        known = {p.name for p in self.params}
        problems = [
            Problem(
                key,
                f"unknown parameter for check {self.name!r} "
                f"(known: {', '.join(sorted(known)) or 'none'})",
            )
            for key in params
            if key not in known
        ]
        for param in self.params:
            if param.name not in params:
                if param.required:
                    problems.append(Problem(param.name, "required parameter is missing"))
                continue
            message = param.problem(params[param.name])
            if message is not None:
                problems.append(Problem(param.name, message))
        wrong = {problem.key for problem in problems}
        valid = {
            key: value
            for key, value in self.with_defaults(params).items()
            if key in known and key not in wrong
        }
        for rule in self.rules:
            problems.extend(p for p in rule(valid) if p.key not in wrong)
        return problems

    def with_defaults(self, params: Mapping[str, object]) -> dict[str, object]:
        """``params`` completed with the defaults of absent optional parameters."""
        resolved = {
            p.name: p.default for p in self.params if not p.required and p.default is not None
        }
        resolved.update(params)
        return resolved

    def expectation_id(self, params: Mapping[str, object]) -> str:
        """The id of an expectation (the loader appends ``#2``, ``#3`` to duplicates)."""
        return f"{self.name}[{self.label(self.with_defaults(params))}]"


class Params:
    """Typed read access to validated parameters (their values are typed ``object``)."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def text(self, key: str) -> str:
        value = self._values[key]
        assert isinstance(value, str), f"{key} is not a string"
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._values.get(key)
        assert value is None or isinstance(value, str), f"{key} is not a string"
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self._values.get(key)
        assert value is None or isinstance(value, int), f"{key} is not an integer"
        return value

    def boolean(self, key: str) -> bool:
        value = self._values[key]
        assert isinstance(value, bool), f"{key} is not a boolean"
        return value

    def integer(self, key: str) -> int:
        value = self._values[key]
        assert isinstance(value, int), f"{key} is not an integer"
        return value


CONTAINER_PARAMS = (Param("container", str, required=True, node=True, doc="container name"),)
"""The parameters of the checks that are about one container."""


def container_label(params: Mapping[str, object]) -> str:
    return str(params["container"])


def not_host(params: Mapping[str, object]) -> list[Problem]:
    """The rule of the single-container checks: the node must be a container."""
    if params.get("container") == HOST:
        return [Problem("container", "must name a container, not the host")]
    return []


def cidr_problem(key: str, value: object) -> list[Problem]:
    """A problem if ``value`` (when given) is not a network in CIDR notation."""
    if value is None:
        return []
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError as error:
        return [Problem(key, f"not a network in CIDR notation: {error}")]
    if "/" not in str(value):
        return [Problem(key, f"give a prefix length, e.g. {value}/24")]
    return []


def address_problem(key: str, value: object) -> list[Problem]:
    """A problem if ``value`` (when given) is not an IP address (a ``%scope``, an interface
    name, is allowed)."""
    if value is None:
        return []
    address, percent, scope = str(value).partition("%")
    try:
        ipaddress.ip_address(address)
    except ValueError as error:
        return [Problem(key, str(error))]
    problem = interface_name_problem(scope) if percent else None
    return [Problem(key, f"scope {scope!r}: {problem}")] if problem is not None else []


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    dict: "a table",
    list: "an array",
}
_VALUE_KINDS = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "float",
    list: "array",
    dict: "table",
}


def type_name(kind: type) -> str:
    """A TOML type for "expected ..." messages: ``a string``, ``a table``."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def describe(value: object) -> str:
    """A TOML value for "..., got ..." messages: ``integer 3``; tables and arrays by kind only
    (the key path already locates them; their text could be long)."""
    kind = _VALUE_KINDS.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if kind not in ("table", "array") else kind
