"""Read and validate a scenario file into a :class:`harness.scenario.Scenario`.

Validation collects every problem of a file before failing, each with the file, the dotted key
path and the line of that key (from :mod:`harness.scenario.tomlpos`), so one run of
``python -m harness validate`` shows everything to fix. User errors are never tracebacks.
"""

from __future__ import annotations

import difflib
import keyword
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from harness.checks import CHECKS
from harness.checks.registry import STEPS
from harness.checks.spec import HOST, CheckSpec, describe, type_name
from harness.checks.steps import BASE_SYSTEM
from harness.render.escape import NIX_INT_MAX, NIX_INT_MIN, NixCode, PrebuiltSystem
from harness.scenario.model import (
    MAX_TIMEOUT,
    BindMount,
    ContainerSpec,
    Expectation,
    Host,
    Scenario,
    ScenarioError,
    Specialisation,
    Step,
    ValidationError,
    Veth,
    VmNode,
    visible,
)
from harness.scenario.nixparse import first_syntax_error, parse_all
from harness.scenario.source import read_source
from harness.scenario.tomlheaders import array_table_lines
from harness.scenario.tomlpos import KeyLines, KeyPath, key_lines
from harness.scenario.unit_values import (
    bind_option_problem,
    bind_path_problem,
    key_problem,
    parameters_problem,
    setting_key_problem,
    value_problem,
)

IFNAMSIZ = 15
"""Longest Linux interface name; the host sides are ``ve-<container>`` and ``vz-<zone>``."""

MAX_DEPTH = 32
"""Deepest key path (tables and arrays) a scenario may have; its own structure needs 8. The
loader and the renderer walk values recursively, so this keeps them far from Python's
recursion limit (``tomllib`` itself fails at a few hundred levels)."""

_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")

T = TypeVar("T")


def format_key(path: KeyPath) -> str:
    """A key path as the user writes it: ``containers.web.binds."/var/lib/web"``, ``expect[2]``.

    Quoted keys use TOML's escapes, so a control or other invisible character in a key is
    visible in the message.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.match(part) else _quoted_key(part)
            out += ("." if out else "") + text
    return out or "(document)"


def _quoted_key(key: str) -> str:
    escaped = "".join("\\" + char if char in '"\\' else char for char in key)
    return f'"{visible(escaped)}"'


def _suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(known)})" if known else ""


class _Reader:
    """Accumulates the errors of one file while the loader walks its data."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.errors: list[ValidationError] = []
        self.unrepresentable: set[KeyPath] = set()
        self.nix_code: list[tuple[KeyPath, str]] = []
        """Every Nix code field that passed the other checks, for :meth:`check_nix`."""

    @cached_property
    def lines(self) -> KeyLines:
        """The line of every key: a full scan, so only made for an error (or see
        :meth:`array_lines`)."""
        return key_lines(self.source)

    def array_lines(self, name: str, count: int) -> Sequence[int | None]:
        """The line of each of the ``count`` entries of the top-level array ``name``: its
        ``[[name]]`` headers when the quick search finds them all, else from the full scan."""
        headers = array_table_lines(self.source, name)
        if len(headers) == count:
            return headers
        return [self.lines.line((name, index)) for index in range(count)]

    def error(self, key: KeyPath, message: str) -> None:
        self.errors.append(
            ValidationError(self.path, self.lines.line(key), format_key(key), message)
        )

    def representable(self, value: object, key: KeyPath = ()) -> None:
        """Report every key and value in ``value`` that has no exact Nix (or Python literal)
        form: NUL in a key or string, an integer beyond 64 bits. Run on the whole document
        first, so no such value reaches rendering wherever it is; :meth:`get` then skips them
        (already reported) and the check parameters' own NUL problems are not repeated."""
        problem = None
        if isinstance(value, dict):
            for name, item in value.items():
                if "\0" in name:
                    self.error((*key, name), "keys cannot contain NUL characters")
                    self.unrepresentable.add((*key, name))
                self.representable(item, (*key, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.representable(item, (*key, index))
        elif isinstance(value, str) and "\0" in value:
            problem = "strings cannot contain NUL characters"
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not NIX_INT_MIN <= value <= NIX_INT_MAX
        ):
            problem = (
                f"integer {value} does not fit Nix's 64-bit integers ({NIX_INT_MIN}..{NIX_INT_MAX})"
            )
        if problem is not None and key not in self.unrepresentable:
            self.error(key, problem)
            self.unrepresentable.add(key)

    def table(
        self, value: object, key: KeyPath, allowed: Sequence[str] | None = None
    ) -> Mapping[str, object] | None:
        """``value`` if it is a table (reporting keys not in ``allowed``), else None."""
        if not isinstance(value, dict):
            self.error(key, f"expected a table, got {describe(value)}")
            return None
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    self.error((*key, name), "unknown key" + _suggest(name, allowed))
        return value

    def get(
        self,
        table: Mapping[str, object],
        key: KeyPath,
        name: str,
        kind: type[T],
        *,
        required: bool = False,
    ) -> T | None:
        """``table[name]`` checked to be of ``kind``; None (and an error if required) if not."""
        if name not in table:
            if required:
                self.error((*key, name), "required key is missing")
            return None
        value = table[name]
        # TOML booleans are Python bools, which are ints too: `timeout = true` is no number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error((*key, name), f"expected {type_name(kind)}, got {describe(value)}")
            return None
        if (*key, name) in self.unrepresentable:
            return None
        return value

    def unit_value(self, key: KeyPath, problem: str | None) -> None:
        """Report ``problem`` of a value bound for a unit file (NUL was reported already)."""
        if problem is not None and key not in self.unrepresentable:
            self.error(key, problem)

    def strings(
        self, table: Mapping[str, object], key: KeyPath, name: str
    ) -> tuple[str, ...] | None:
        items = self.get(table, key, name, list)
        if items is None:
            return None
        valid = True
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.error((*key, name, index), f"expected a string, got {describe(item)}")
                valid = False
        return tuple(items) if valid else None

    def settings(self, value: object, key: KeyPath) -> object:
        """Free-form networkd settings: tables, arrays, strings, integers and booleans only
        (the values Nix and the module's option types can take exactly), with setting names
        as keys and strings that a unit file line can hold."""
        if isinstance(value, dict):
            out = {}
            for name, item in value.items():
                problem = setting_key_problem(name)
                if problem is None:
                    out[name] = self.settings(item, (*key, name))
                else:
                    self.unit_value((*key, name), problem)
            return out
        if isinstance(value, list):
            return [self.settings(item, (*key, index)) for index, item in enumerate(value)]
        if isinstance(value, str):
            self.unit_value(key, value_problem(value))
        elif not isinstance(value, int | bool):
            self.error(
                key,
                f"unsupported value {describe(value)}: use a string, integer, "
                "boolean, array or table",
            )
        return value

    def check_nix(self) -> None:
        """Report the first Nix code field (in file order) that Nix cannot parse."""
        if first_syntax_error([code for _, code in self.nix_code]) is None:
            return  # the usual case, without the key positions (found by scanning the file)
        fields = sorted(self.nix_code, key=lambda field: self.lines.line(field[0]) or 0)
        found = first_syntax_error([code for _, code in fields])
        if found is not None:
            self.error(fields[found.index][0], f"not valid Nix: {found.message}")

    def name(self, name: str, key: KeyPath, what: str, interface: str) -> bool:
        """Whether ``name`` can name a machine and the host interface ``interface``."""
        ok = True
        if not _NAME.match(name):
            self.error(
                key,
                f"invalid {what} name {name!r}: use letters, digits and '-' (not at either end)",
            )
            ok = False
        if len(interface) > IFNAMSIZ:
            self.error(
                key,
                f"{what} name {name!r} is too long: the host interface "
                f"{interface!r} would exceed {IFNAMSIZ} characters "
                f"(at most {IFNAMSIZ - (len(interface) - len(name))} for the name)",
            )
            ok = False
        return ok


TOP_KEYS = ("description", "timeout", "host", "nodes", "containers", "expect", "step")
NODE_KEYS = ("config",)
HOST_KEYS = ("config", "specialisations")
SPECIALISATION_KEYS = ("config", "containers")
SPECIALISATION_CONTAINER_KEYS = ("config",)
CONTAINER_KEYS = ("config", "path", "autoStart", "restartIfChanged", "binds", "network")
PATH_KEYS = ("config",)
BIND_KEYS = ("hostPath", "readOnly", "idmap", "options")
NETWORK_KEYS = ("veth",)
VETH_KEYS = ("enable", "zone", "config")
VETH_CONFIG_KEYS = ("host", "container")
RAW_UNIT_TEXT = (
    "raw unit file text, not data: write each setting as a key of its section "
    "(e.g. linkConfig.MTUBytes = 1400)"
)


def _nix_code(reader: _Reader, table: Mapping[str, object], key: KeyPath) -> NixCode | None:
    """A ``config`` field: Nix code by design, so only its presence can be checked here."""
    code = reader.get(table, key, "config", str)
    if code is None:
        return None
    if not code.strip():
        reader.error((*key, "config"), 'empty Nix code: write a module such as "{ }"')
        return None
    reader.nix_code.append(((*key, "config"), code))
    return NixCode(code)


def _host(reader: _Reader, value: object) -> Host:
    table = reader.table(value, ("host",), HOST_KEYS)
    if table is None:
        return Host()
    specialisations = []
    if "specialisations" in table:
        key: KeyPath = ("host", "specialisations")
        for name, item in (reader.table(table["specialisations"], key) or {}).items():
            found = _specialisation(reader, name, item, (*key, name))
            if found is not None:
                specialisations.append(found)
    return Host(_nix_code(reader, table, ("host",)), tuple(specialisations))


def _specialisation(
    reader: _Reader, name: str, value: object, key: KeyPath
) -> Specialisation | None:
    """One specialisation; its container names are checked against the scenario's later."""
    if not _NAME.match(name) or name == BASE_SYSTEM:
        reader.error(
            key,
            f"invalid specialisation name {name!r}: use letters, digits and '-' "
            f"(not at either end), not {BASE_SYSTEM!r}",
        )
    table = reader.table(value, key, SPECIALISATION_KEYS)
    if table is None:
        return None
    containers: dict[str, NixCode] = {}
    if "containers" in table:
        for container, item in (
            reader.table(table["containers"], (*key, "containers")) or {}
        ).items():
            item_key = (*key, "containers", container)
            changes = reader.table(item, item_key, SPECIALISATION_CONTAINER_KEYS)
            code = _nix_code(reader, changes, item_key) if changes is not None else None
            if changes is not None and "config" not in changes:
                reader.error(item_key, "give the container's `config` in this specialisation")
            if code is not None:
                containers[container] = code
    if "config" not in table and "containers" not in table:
        reader.error(key, "a specialisation changes something: give `config` or `containers`")
    return Specialisation(name, _nix_code(reader, table, key), MappingProxyType(containers))


def _specialised_containers(
    reader: _Reader, host: Host, containers: Sequence[ContainerSpec]
) -> None:
    names = [container.name for container in containers]
    prebuilt = {container.name for container in containers if container.path is not None}
    for specialisation in host.specialisations:
        for container in specialisation.containers:
            key = ("host", "specialisations", specialisation.name, "containers", container)
            if container not in names:
                reader.error(key, f"unknown container {container!r}" + _suggest(container, names))
            elif container in prebuilt:
                reader.error(
                    key,
                    f"container {container!r} runs a prebuilt `path`: a "
                    "specialisation can change only a container's `config`",
                )


def _absolute(reader: _Reader, path: str | None, key: KeyPath) -> None:
    if path is not None and not path.startswith("/"):
        reader.error(key, f"expected an absolute path, got {path!r}")


def _bind(reader: _Reader, mount_point: str, value: object, key: KeyPath) -> BindMount | None:
    _absolute(reader, mount_point, key)
    reader.unit_value(key, bind_path_problem(mount_point))
    table = reader.table(value, key, BIND_KEYS)
    if table is None:
        return None
    host_path = reader.get(table, key, "hostPath", str)
    _absolute(reader, host_path, (*key, "hostPath"))
    if host_path is not None:
        reader.unit_value((*key, "hostPath"), bind_path_problem(host_path))
    options = reader.strings(table, key, "options")
    for index, option in enumerate(options or ()):
        reader.unit_value((*key, "options", index), bind_option_problem(option))
    return BindMount(
        path=mount_point,
        host_path=host_path,
        read_only=reader.get(table, key, "readOnly", bool),
        idmap=reader.get(table, key, "idmap", bool),
        options=options,
    )


def _veth(reader: _Reader, value: object, key: KeyPath) -> Veth:
    network = reader.table(value, key, NETWORK_KEYS)
    if network is None or "veth" not in network:
        return Veth()
    key = (*key, "veth")
    veth = reader.table(network["veth"], key, VETH_KEYS)
    if veth is None:
        return Veth()
    zone = reader.get(veth, key, "zone", str)
    if zone is not None:
        reader.name(zone, (*key, "zone"), "zone", f"vz-{zone}")
    sides: dict[str, Mapping[str, object] | None] = {"host": None, "container": None}
    if "config" in veth:
        config = reader.table(veth["config"], (*key, "config"), VETH_CONFIG_KEYS)
        for side in sides:
            if config is not None and side in config:
                side_key = (*key, "config", side)
                table = reader.table(config[side], side_key)
                if table is not None:
                    if "extraConfig" in table:
                        reader.error((*side_key, "extraConfig"), RAW_UNIT_TEXT)
                    settings = reader.settings(
                        {name: item for name, item in table.items() if name != "extraConfig"},
                        side_key,
                    )
                    assert isinstance(settings, dict)
                    sides[side] = MappingProxyType(settings)
    enable = reader.get(veth, key, "enable", bool)
    if zone is not None and enable is False:
        reader.error((*key, "zone"), "a zone needs the veth link: remove `enable = false`")
    return Veth(
        enable=enable,
        zone=zone,
        host_config=sides["host"],
        container_config=sides["container"],
    )


def _path(reader: _Reader, value: object, key: KeyPath) -> str | PrebuiltSystem | None:
    """``path``: a prebuilt toplevel's absolute path (data), or a table whose ``config`` (Nix
    code) is the module of a system that the test builds with ``nixosModules.default``."""
    if isinstance(value, str):
        _absolute(reader, value, key)
        reader.unit_value(key, parameters_problem(value))
        return value
    if not isinstance(value, dict):
        reader.error(
            key,
            f"expected an absolute path (a string) or a table with `config`, got {describe(value)}",
        )
        return None
    table = reader.table(value, key, PATH_KEYS)
    if table is not None and "config" not in table:
        reader.error(key, "give the prebuilt system's `config` (a NixOS module)")
    code = _nix_code(reader, table, key) if table is not None else None
    return PrebuiltSystem(code) if code is not None else None


def _container(reader: _Reader, name: str, value: object) -> ContainerSpec | None:
    key: KeyPath = ("containers", name)
    if name == HOST:
        reader.error(key, f"{HOST!r} names the VM in expectations; choose another name")
    elif (problem := key_problem(name)) is not None:
        reader.error(key, problem)
    else:
        reader.name(name, key, "container", f"ve-{name}")
    table = reader.table(value, key, CONTAINER_KEYS)
    if table is None:
        return None
    binds: list[BindMount] = []
    if "binds" in table:
        bind_table = reader.table(table["binds"], (*key, "binds"))
        for mount_point, bind_value in (bind_table or {}).items():
            bind = _bind(reader, mount_point, bind_value, (*key, "binds", mount_point))
            if bind is not None:
                binds.append(bind)
    path = _path(reader, table["path"], (*key, "path")) if "path" in table else None
    if ("config" in table) == ("path" in table):
        reader.error(
            key,
            "set exactly one of `config` (the container's NixOS module) and "
            "`path` (a prebuilt system)" + (": both are set" if "path" in table else ""),
        )
    return ContainerSpec(
        name=name,
        config=_nix_code(reader, table, key),
        path=path,
        auto_start=reader.get(table, key, "autoStart", bool),
        restart_if_changed=reader.get(table, key, "restartIfChanged", bool),
        binds=tuple(binds),
        veth=_veth(reader, table["network"], (*key, "network")) if "network" in table else Veth(),
    )


_NODE_NAME = re.compile(r"[a-z][a-z0-9]*\Z")
DRIVER_NAMES = frozenset(
    {
        "machine",
        "driver",
        "log",
        "os",
        "t",
        "machines",
        "vlans",
        "subtest",
        "retry",
        "debug",
        "session",
        "topology",
        "checks",
        "start_all",
        "join_all",
        "test_script",
        "run_tests",
        "create_machine",
        "serial_stdout_off",
        "serial_stdout_on",
        "polling_condition",
    }
)
"""Names a node cannot have: the testScript's own globals (the driver's symbols, and the
generated script's ``session``, ``topology``, ``checks``), which a node's machine would shadow."""


def _node(reader: _Reader, name: str, value: object) -> VmNode | None:
    key: KeyPath = ("nodes", name)
    if name == HOST:
        reader.error(key, f"{HOST!r} is the VM that runs the containers; choose another name")
    elif not _NODE_NAME.match(name) or keyword.iskeyword(name) or name in DRIVER_NAMES:
        reader.error(
            key,
            f"invalid node name {name!r}: the testScript names the VM by it, so "
            "use lowercase letters and digits, starting with a letter, and none "
            "of the driver's names",
        )
    table = reader.table(value, key, NODE_KEYS)
    if table is None:
        return None
    return VmNode(name, _nix_code(reader, table, key))


def _case_clashes(reader: _Reader, names: Sequence[str], nodes: Sequence[str]) -> None:
    """Host names are case-insensitive (nss-mymachines, LLMNR): ``web`` and ``WEB`` would be
    one name to every lookup, so a name may not differ from an earlier one only in case; and a
    node and a container cannot share a name."""
    first: dict[str, str] = {}
    for name in names:
        earlier = first.setdefault(name.casefold(), name)
        if earlier != name:
            reader.error(
                ("containers", name),
                f"container names {earlier!r} and {name!r} "
                "differ only in case: host names are case-insensitive",
            )
    for node in nodes:
        if node.casefold() in first:
            reader.error(
                ("nodes", node),
                f"{first[node.casefold()]!r} names a container "
                "already: host names are case-insensitive and must be unique",
            )


def _entry(
    reader: _Reader,
    key: KeyPath,
    value: object,
    containers: Sequence[str],
    vms: Sequence[str],
    kind: str,
    specs: Mapping[str, CheckSpec],
) -> tuple[CheckSpec, dict[str, object]] | None:
    """An ``[[expect]]`` (``kind`` "check") or ``[[step]]`` (``kind`` "action") table: the
    spec it names and its parameters, or None after reporting what is wrong."""
    table = reader.table(value, key)
    if table is None:
        return None
    name = reader.get(table, key, kind, str, required=True)
    spec = specs.get(name) if name is not None else None
    what = "check" if kind == "check" else "step"
    if name is not None and spec is None:
        reader.error((*key, kind), f"unknown {what} {name!r}" + _suggest(name, list(specs)))
    if spec is None:
        # Without a spec its parameters are unknown, but a key none has is still wrong
        # (`chek = "userns"` next to the missing `check`).
        any_key = sorted({kind, *(p.name for other in specs.values() for p in other.params)})
        reader.table(table, key, any_key)
        return None
    params = {param: item for param, item in table.items() if param != kind}
    known = [param.name for param in spec.params]
    errors_before = len(reader.errors)
    for problem in spec.validate(params):
        if (*key, problem.key) in reader.unrepresentable:
            continue
        if problem.key in params and problem.key not in known:
            reader.error(
                (*key, problem.key),
                f"unknown parameter for {what} {name!r}" + _suggest(problem.key, known),
            )
        else:
            reader.error((*key, problem.key), problem.message)
    for param in spec.params:
        node = params.get(param.name)
        # A `container` parameter names a container (or the host, which its check refuses);
        # a `vm` one the host or a [nodes] VM.
        nodes = (
            (HOST, *containers)
            if param.name == "container"
            else (HOST, *vms)
            if param.vm
            else (HOST, *containers, *vms)
        )
        if param.node and isinstance(node, str) and node not in nodes:
            if param.vm and node in containers:
                reader.error(
                    (*key, param.name),
                    f"{node!r} is a container; {what} {name!r} takes the host or a [nodes] VM",
                )
            else:
                reader.error((*key, param.name), f"unknown node {node!r}" + _suggest(node, nodes))
    if len(reader.errors) > errors_before:
        return None
    return spec, params


def _expectation(
    reader: _Reader,
    index: int,
    value: object,
    containers: Sequence[str],
    vms: Sequence[str],
    line: int | None,
) -> Expectation | None:
    key: KeyPath = ("expect", index)
    found = _entry(reader, key, value, containers, vms, "check", CHECKS)
    if found is None:
        return None
    spec, params = found
    return Expectation(
        id=spec.expectation_id(params),
        check=spec.name,
        params=MappingProxyType(spec.with_defaults(params)),
        line=line,
    )


def _steps(
    reader: _Reader,
    raw: object,
    containers: Sequence[str],
    vms: Sequence[str],
    expect_lines: Sequence[int | None],
    specialisations: Sequence[str],
) -> tuple[Step, ...]:
    """The ``[[step]]`` entries, each placed before the first expectation below it."""
    if not isinstance(raw, list):
        reader.error(("step",), f"expected an array of tables ([[step]]), got {describe(raw)}")
        return ()
    steps: list[Step] = []
    seen: dict[str, int] = {}
    step_lines = reader.array_lines("step", len(raw))
    for index, value in enumerate(raw):
        key: KeyPath = ("step", index)
        found = _entry(reader, key, value, containers, vms, "action", STEPS)
        line = step_lines[index]
        if found is None or line is None or None in expect_lines:
            continue  # without lines the order is unknown: reported below
        spec, params = found
        target = params.get("to")
        if spec.name == "switch" and target != BASE_SYSTEM and target not in specialisations:
            known = [BASE_SYSTEM, *specialisations]
            reader.error(
                (*key, "to"), f"unknown specialisation {target!r}" + _suggest(str(target), known)
            )
            continue
        # TOML ends every key/value pair with a line break, so no step shares a line with an
        # expectation: the lines order them.
        before = sum(1 for other in expect_lines if other is not None and other < line)
        if before == len(expect_lines):
            reader.error(
                key,
                "no expectation follows this step, so nothing would show its "
                "effect: add an [[expect]] after it",
            )
            continue
        step_id = spec.expectation_id(params)
        count = seen[step_id] = seen.get(step_id, 0) + 1
        steps.append(
            Step(
                id=step_id if count == 1 else f"{step_id}#{count}",
                action=spec.name,
                params=MappingProxyType(spec.with_defaults(params)),
                line=line,
                before=before,
            )
        )
    if None in step_lines or None in expect_lines:
        reader.error(
            ("step",),
            "the order of steps and expectations is unknown: the file's lines could not be scanned",
        )
    return tuple(steps)


def _unique_ids(expectations: list[Expectation]) -> tuple[Expectation, ...]:
    """Append ``#2``, ``#3`` to repeated ids so every result names one expectation."""
    seen: dict[str, int] = {}
    out = []
    for expectation in expectations:
        count = seen[expectation.id] = seen.get(expectation.id, 0) + 1
        if count > 1:
            expectation = Expectation(
                f"{expectation.id}#{count}", expectation.check, expectation.params, expectation.line
            )
        out.append(expectation)
    return tuple(out)


def _each(
    reader: _Reader,
    data: Mapping[str, object],
    name: str,
    read: Callable[[str, object], T | None],
) -> list[T]:
    table = reader.table(data[name], (name,)) if name in data else None
    return [item for key, value in (table or {}).items() if (item := read(key, value)) is not None]


def _too_deep(data: object) -> KeyPath | None:
    """The first key path longer than :data:`MAX_DEPTH` in ``data``, found without recursion."""
    stack: list[tuple[KeyPath, object]] = [((), data)]
    while stack:
        key, value = stack.pop()
        if len(key) > MAX_DEPTH:
            return key
        if isinstance(value, dict):
            stack.extend(((*key, name), item) for name, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*key, index), item) for index, item in enumerate(value))
    return None


def parse_scenario(path: Path, source: str) -> Scenario:
    """Validate the TOML text ``source`` of the scenario file ``path``."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        line = int(match.group(1)) if match else 1
        raise ScenarioError(
            (ValidationError(path, line, "(syntax)", f"invalid TOML: {error}"),)
        ) from None
    except RecursionError:
        raise ScenarioError(
            (
                ValidationError(
                    path,
                    None,
                    "(syntax)",
                    f"tables and arrays nested too deeply to parse (at most {MAX_DEPTH} levels)",
                ),
            )
        ) from None
    reader = _Reader(path, source)
    deep = _too_deep(data)
    if deep is not None:  # stop here: every later step walks the data recursively
        reader.error(deep, f"nested too deeply: at most {MAX_DEPTH} levels of tables and arrays")
        raise ScenarioError(tuple(reader.errors))
    reader.representable(data)
    if not _NAME.match(path.stem):
        reader.errors.append(
            ValidationError(
                path,
                1,
                "(file name)",
                f"the file stem {path.stem!r} names the test: use letters, digits and '-'",
            )
        )
    reader.table(data, (), TOP_KEYS)
    description = reader.get(data, (), "description", str, required=True)
    timeout = reader.get(data, (), "timeout", int)
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        reader.error(
            ("timeout",),
            f"expected a positive number of seconds up to {MAX_TIMEOUT} (one week), got {timeout}",
        )
    host = _host(reader, data["host"]) if "host" in data else Host()
    containers = _each(
        reader, data, "containers", lambda name, value: _container(reader, name, value)
    )
    names = [container.name for container in containers]
    nodes = _each(reader, data, "nodes", lambda name, value: _node(reader, name, value))
    vm_names = [node.name for node in nodes]
    _case_clashes(reader, names, vm_names)
    _specialised_containers(reader, host, containers)
    expectations: list[Expectation] = []
    expect_lines: Sequence[int | None] = []
    raw = data.get("expect")
    if raw is None or raw == []:  # `expect = []` would check nothing
        reader.error(("expect",), "a scenario needs at least one [[expect]] entry")
    elif not isinstance(raw, list):
        reader.error(("expect",), f"expected an array of tables ([[expect]]), got {describe(raw)}")
    else:
        expect_lines = reader.array_lines("expect", len(raw))
        for index, value in enumerate(raw):
            expectation = _expectation(reader, index, value, names, vm_names, expect_lines[index])
            if expectation is not None:
                expectations.append(expectation)
    steps: tuple[Step, ...] = ()
    if "step" in data:
        steps = _steps(
            reader,
            data["step"],
            names,
            vm_names,
            expect_lines,
            [specialisation.name for specialisation in host.specialisations],
        )
    reader.check_nix()
    if reader.errors:
        # In file order, as an editor walks them (the walk itself goes by section).
        raise ScenarioError(tuple(sorted(reader.errors, key=lambda error: error.line or 0)))
    assert description is not None
    return Scenario(
        name=path.stem,
        path=path,
        description=description,
        timeout=timeout,
        host=host,
        containers=tuple(containers),
        expectations=_unique_ids(expectations),
        steps=steps,
        nodes=tuple(nodes),
    )


def parse_nix_code_of(paths: Iterable[Path]) -> None:
    """Parse the Nix code of many scenario files in one go (:mod:`harness.scenario.nixparse`), so
    that loading each of them afterwards starts no process. A file that cannot be read or is
    not TOML is passed over: loading it reports that."""
    codes: list[str] = []
    for path in paths:
        try:
            data = tomllib.loads(read_source(path))
        except (ScenarioError, tomllib.TOMLDecodeError):
            continue
        codes.extend(_config_strings(data))
    parse_all(codes)


def _config_strings(value: object) -> Iterator[str]:
    """Every string at a key ``config``: the format's Nix code (elsewhere an error anyway)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "config" and isinstance(item, str):
                yield item
            else:
                yield from _config_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_strings(item)


def load_scenario(path: Path) -> Scenario:
    """Read (:func:`harness.source.read_source`: bounded) and validate one scenario file;
    :class:`ScenarioError` lists all its problems."""
    return parse_scenario(path, read_source(path))
