"""The validated form of a scenario file: frozen dataclasses, made by :mod:`harness.scenario.load`.

Fields that mirror the module's options are ``None`` when the scenario does not set them, so the
rendered test leaves the module's own defaults (and their documentation) in charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from harness.scenario.nixvalues import NixCode, PrebuiltSystem

MAX_TIMEOUT = 7 * 24 * 60 * 60
"""Largest ``timeout`` (the test's ``globalTimeout``): one week, the NixOS test driver's own
default. The tightest limit on the paths a timeout takes is the harness's wait for the build
(``selectors`` over ``epoll``, whose timeout is a C int of milliseconds: 2**31 - 1 ms, about
24.8 days, beyond which Python raises OverflowError); the driver's ``threading.Timer`` allows
``threading.TIMEOUT_MAX``. A week plus the build margin stays far below both."""


def visible(text: str) -> str:
    """``text`` with every character that does not print as itself escaped as ``\\uXXXX`` (or
    ``\\UXXXXXXXX``): control and format characters such as U+202E (right-to-left override)
    or U+200B (zero width space), line and paragraph separators, other spaces than ' ',
    unassigned code points (those ``repr`` escapes). TOML reads the same escapes."""
    return "".join(
        char
        if char.isprintable()
        else f"\\u{ord(char):04x}"
        if ord(char) <= 0xFFFF
        else f"\\U{ord(char):08x}"
        for char in text
    )


@dataclass(frozen=True)
class ValidationError:
    """One problem in a scenario file, located by file, line and dotted key path.

    ``line`` is None when the file's key positions are unknown: the error names the file only.
    Printed, every invisible character of it is escaped (:func:`visible`): one error is one
    line, and what it shows is what the file holds.
    """

    path: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return visible(f"{where}: {self.key}: {self.message}")


class ScenarioError(Exception):
    """A scenario file is invalid; ``errors`` lists every problem found in it."""

    def __init__(self, errors: tuple[ValidationError, ...]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportPath:
    """One ``imports`` entry: ``written`` as the scenario has it (relative to the scenario
    file), ``target`` the file or directory it names: absolute, normalised lexically (as Nix
    normalises paths), inside the flake root."""

    written: str
    target: Path


@dataclass(frozen=True)
class UserCode:
    """A machine's references to the user's own code: ``imports`` (files of the repository)
    and ``modules`` (names of the flake's ``nixosModules``), imported before its ``config``."""

    imports: tuple[ImportPath, ...] = ()
    modules: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.imports or self.modules)


@dataclass(frozen=True)
class Specialisation:
    """``[host.specialisations.<name>]``: a NixOS specialisation of the host, which a
    ``switch`` step activates. ``config`` is an extra host module; ``containers`` maps container
    names to extra container modules, merged with their ``config`` (Nix code each)."""

    name: str
    config: NixCode | None = None
    containers: Mapping[str, NixCode] = field(default_factory=lambda: MappingProxyType({}))
    user: UserCode = UserCode()


@dataclass(frozen=True)
class Host:
    """The VM that runs the containers; ``config`` is an extra NixOS module (Nix code)."""

    config: NixCode | None = None
    specialisations: tuple[Specialisation, ...] = ()
    user: UserCode = UserCode()


@dataclass(frozen=True)
class BindMount:
    """``binds.<path>``: ``path`` is the mount point inside the container."""

    path: str
    host_path: str | None = None
    read_only: bool | None = None
    idmap: bool | None = None
    options: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Veth:
    """``network.veth``: the container's link to the host and its networkd settings.

    ``host_config`` / ``container_config`` are systemd.network.networks settings (for example
    ``{"networkConfig": {"DHCP": False}}``) merged by the module over its defaults.
    """

    enable: bool | None = None
    zone: str | None = None
    host_config: Mapping[str, object] | None = None
    container_config: Mapping[str, object] | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """``[containers.<name>]``: one ``nixos-nspawn.containers.<name>`` definition. ``path`` is a
    prebuilt toplevel: a store path (data), or a system the test builds from Nix code
    (``[containers.<name>.path] config``)."""

    name: str
    config: NixCode | None = None
    path: str | PrebuiltSystem | None = None
    auto_start: bool | None = None
    restart_if_changed: bool | None = None
    binds: tuple[BindMount, ...] = ()
    veth: Veth = Veth()
    user: UserCode = UserCode()


@dataclass(frozen=True)
class VmNode:
    """``[nodes.<name>]``: a plain NixOS VM of the test besides the host (a client on the test
    network, say); ``config`` is its NixOS module (Nix code)."""

    name: str
    config: NixCode | None = None
    user: UserCode = UserCode()


@dataclass(frozen=True)
class Expectation:
    """One ``[[expect]]`` entry: the check's name, its parameters (defaults filled in), and
    ``id`` = ``check[label]`` (``#2``, ``#3`` appended to duplicates within a file)."""

    id: str
    check: str
    params: Mapping[str, object]
    line: int | None


@dataclass(frozen=True)
class Step:
    """One ``[[step]]`` entry: an action between expectations (``restart``, ``run``, ...), its
    parameters (defaults filled in), ``id`` = ``action[label]``, and ``before``: the index of
    the expectation it comes before in file order (every step has a later expectation)."""

    id: str
    action: str
    params: Mapping[str, object]
    line: int | None
    before: int


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file; ``name`` is the file stem and names the generated test."""

    name: str
    path: Path
    description: str
    timeout: int | None
    host: Host
    containers: tuple[ContainerSpec, ...]
    expectations: tuple[Expectation, ...]
    steps: tuple[Step, ...] = ()
    nodes: tuple[VmNode, ...] = ()

    @property
    def imported(self) -> tuple[Path, ...]:
        """Every file or directory of the repository that the scenario ``imports``."""
        machines: tuple[Host | Specialisation | VmNode | ContainerSpec, ...] = (
            self.host,
            *self.host.specialisations,
            *self.nodes,
            *self.containers,
        )
        return tuple(item.target for machine in machines for item in machine.user.imports)

    @property
    def program(self) -> tuple[Step | Expectation, ...]:
        """Steps and expectations in file order: what the testScript runs."""
        out: list[Step | Expectation] = []
        steps = list(self.steps)
        for index, expectation in enumerate(self.expectations):
            while steps and steps[0].before == index:
                out.append(steps.pop(0))
            out.append(expectation)
        return tuple(out)
