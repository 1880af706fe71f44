"""Render a validated scenario into its NixOS test module (``nix/tests/<name>.nix``).

Two jinja2 templates give the shape (the Nix module, and the testScript inside it); every value
goes into them through the filters below, which are the functions of :mod:`harness.render.escape`.
Templates never format values themselves, so the escaping argument is made in one module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from harness.render import escape
from harness.scenario.model import ContainerSpec, Scenario, Step, UserCode
from harness.scenario.nixvalues import PrebuiltSystem

GENERATED_DIR = Path("nix", "tests")
"""Where this repository's generated test modules live (the manual's pages name them); a
repository's own place is its settings' ``tests-dir`` (:mod:`harness.settings`)."""

RENDER_COMMAND = "python -m harness render"

DEFAULT_TEST_TIMEOUT = 1800
"""globalTimeout (seconds) of scenarios without ``timeout``: booting a VM and its containers."""

HOST_MEMORY_MB = 1024
CONTAINER_MEMORY_MB = 256
HOST_DISK_MB = 2048
"""VM sizing: the host's own system plus a share per container (each boots a NixOS system)."""

VETH_ENABLE_DEFAULT = True
"""The default of ``network.veth.enable`` (nix/host/network.nix); the topology needs it."""

BIND_READ_ONLY_DEFAULT = False
"""The module's default for ``binds.<path>.readOnly`` (nix/host/binds.nix)."""

AUTO_START_DEFAULT = True
"""The module's default for ``autoStart`` (nix/host/service.nix); a host reboot waits for those."""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.render", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        nix=escape.to_nix,
        nix_script=escape.nix_multiline_string,
        nix_comment=escape.nix_comment,
        nix_attr=escape.nix_attr_name,
        py=escape.to_python,
    )
    return env


_ENV = _environment()


@dataclass(frozen=True)
class _Place:
    """Where a rendering goes: the scenario file as the header names it (``source``) and the
    directory of the generated file (``directory``; the scenario's paths are relative to it)."""

    source: str
    directory: Path | None

    def modules(self, user: UserCode, where: str) -> list[object]:
        """A machine's ``imports`` (path expressions) and ``modules`` (``userModules.<name>``)."""
        if user.imports and self.directory is None:
            raise ValueError("a scenario with `imports` renders only for a place (directory)")
        base = os.path.abspath(self.directory) if self.directory is not None else ""
        paths: list[object] = [
            escape.NixPath(Path(os.path.relpath(item.target, base)).as_posix())
            for item in user.imports
        ]
        return paths + [
            escape.UserModule(
                name,
                f"scenario {self.source}: {where} modules: the flake has no nixosModules.{name}",
            )
            for name in user.modules
        ]


def container_options(container: ContainerSpec, place: _Place) -> dict[str, object]:
    """The ``nixos-nspawn.containers.<name>`` definition: exactly the options the scenario set,
    under the module's option names, so the module's defaults apply to everything else."""
    options: dict[str, object] = {}
    user = place.modules(container.user, f"[containers.{container.name}]")
    if user:
        code = [container.config] if container.config is not None else []
        options["config"] = {"imports": [*user, *code]}
    elif container.config is not None:
        options["config"] = container.config
    if container.path is not None:
        options["path"] = container.path
    if container.auto_start is not None:
        options["autoStart"] = container.auto_start
    if container.restart_if_changed is not None:
        options["restartIfChanged"] = container.restart_if_changed
    if container.binds:
        binds: dict[str, object] = {}
        for bind in container.binds:
            entry: dict[str, object] = {}
            if bind.host_path is not None:
                entry["hostPath"] = bind.host_path
            if bind.read_only is not None:
                entry["readOnly"] = bind.read_only
            if bind.idmap is not None:
                entry["idmap"] = bind.idmap
            if bind.options is not None:
                entry["options"] = list(bind.options)
            binds[bind.path] = entry
        options["binds"] = binds
    veth: dict[str, object] = {}
    if container.veth.enable is not None:
        veth["enable"] = container.veth.enable
    if container.veth.zone is not None:
        veth["zone"] = container.veth.zone
    sides = {"host": container.veth.host_config, "container": container.veth.container_config}
    config = {side: settings for side, settings in sides.items() if settings is not None}
    if config:
        veth["config"] = config
    if veth:
        options["network"] = {"veth": veth}
    return options


def specialisations(scenario: Scenario, place: _Place) -> dict[str, object]:
    """The host's ``specialisation`` option: per specialisation extra host modules (its
    ``imports``, ``modules``, ``config``) and the containers' extra modules (merged with their
    ``config`` by the module's option type)."""
    out: dict[str, object] = {}
    for specialisation in scenario.host.specialisations:
        configuration: dict[str, object] = {}
        where = f"[host.specialisations.{specialisation.name}]"
        imports = place.modules(specialisation.user, where)
        if specialisation.config is not None:
            imports.append(specialisation.config)
        if imports:
            configuration["imports"] = imports
        if specialisation.containers:
            configuration["nixos-nspawn"] = {
                "containers": {
                    name: {"config": code} for name, code in specialisation.containers.items()
                }
            }
        out[specialisation.name] = {"configuration": configuration}
    return out


def _topology(scenario: Scenario) -> list[dict[str, object]]:
    """What the checks need to know of each container, with the module's defaults resolved."""
    return [
        {
            "name": container.name,
            "zone": container.veth.zone,
            "veth": VETH_ENABLE_DEFAULT if container.veth.enable is None else container.veth.enable,
            "binds": [
                {
                    "path": bind.path,
                    "read_only": BIND_READ_ONLY_DEFAULT
                    if bind.read_only is None
                    else bind.read_only,
                }
                for bind in container.binds
            ],
            "auto_start": AUTO_START_DEFAULT
            if container.auto_start is None
            else container.auto_start,
        }
        for container in scenario.containers
    ]


def render_test_script(scenario: Scenario) -> str:
    """The Python testScript: build the topology, run every expectation, then fail if any did."""
    program = [
        ("step", entry.id, entry.action, entry.params)
        if isinstance(entry, Step)
        else ("check", entry.id, entry.check, entry.params)
        for entry in scenario.program
    ]
    nodes = [node.name for node in scenario.nodes]
    assert all(name.isidentifier() for name in nodes)  # the loader allows [a-z][a-z0-9]* only
    return _ENV.get_template("testscript.py.j2").render(
        containers=_topology(scenario), program=program, nodes=nodes
    )


def render_scenario(scenario: Scenario, source: str, directory: Path | None = None) -> str:
    """The text of the generated NixOS test module for ``scenario``.

    ``source`` is the scenario file as the header names it: give
    :func:`harness.catalogue.source_label` (through :func:`harness.catalogue.rendered`), so
    that every renderer writes the header ``render`` commits. ``directory`` is where the text
    is written: the scenario's ``imports`` become paths relative to it (a scenario with
    ``imports`` needs it).
    """
    place = _Place(source, directory)
    host_config = [scenario.host.config] if scenario.host.config is not None else []
    header = f"Generated from {source} by `{RENDER_COMMAND}`; do not edit.\n{scenario.description}"
    return _ENV.get_template("test.nix.j2").render(
        header=header,
        name=scenario.name,
        timeout=scenario.timeout if scenario.timeout is not None else DEFAULT_TEST_TIMEOUT,
        host_imports=[*place.modules(scenario.host.user, "[host]"), *host_config],
        memory_mb=HOST_MEMORY_MB + CONTAINER_MEMORY_MB * len(scenario.containers),
        disk_mb=HOST_DISK_MB,
        containers={c.name: container_options(c, place) for c in scenario.containers},
        # A prebuilt system is built with the host's `pkgs` (PrebuiltSystem).
        needs_pkgs=any(isinstance(c.path, PrebuiltSystem) for c in scenario.containers),
        specialisations=specialisations(scenario, place),
        nodes={
            node.name: {
                "imports": [
                    *place.modules(node.user, f"[nodes.{node.name}]"),
                    *([node.config] if node.config is not None else []),
                ]
            }
            for node in scenario.nodes
        },
        test_script=render_test_script(scenario),
    )
