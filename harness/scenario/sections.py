"""The topology sections of a scenario: ``[host]`` (and its specialisations), ``[containers.<n>]``
(binds, network, prebuilt ``path``) and ``[nodes.<n>]``, each validated into the model."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from harness.checks.spec import HOST, describe
from harness.checks.steps import BASE_SYSTEM
from harness.scenario.driver_names import driver_name_problem
from harness.scenario.model import (
    BindMount,
    ContainerSpec,
    Host,
    ImportPath,
    Specialisation,
    UserCode,
    Veth,
    VmNode,
)
from harness.scenario.nixvalues import NixCode, PrebuiltSystem
from harness.scenario.reader import NAME, Reader, suggest
from harness.scenario.tomlpos import KeyPath
from harness.scenario.unit_values import (
    FILE_NAME_MAX,
    bind_option_problem,
    bind_path_problem,
    key_problem,
    parameters_problem,
)
from harness.scenario.usercode import flake_root, import_target, module_problem

USER_CODE_KEYS = ("imports", "modules")
NODE_KEYS = ("config", *USER_CODE_KEYS)
HOST_KEYS = ("config", "specialisations", *USER_CODE_KEYS)
SPECIALISATION_KEYS = ("config", "containers", *USER_CODE_KEYS)
SPECIALISATION_CONTAINER_KEYS = ("config",)
CONTAINER_KEYS = (
    "config",
    "path",
    "autoStart",
    "restartIfChanged",
    "binds",
    "network",
    *USER_CODE_KEYS,
)
PATH_KEYS = ("config",)
BIND_KEYS = ("hostPath", "readOnly", "idmap", "options")
NETWORK_KEYS = ("veth",)
VETH_KEYS = ("enable", "zone", "config")
VETH_CONFIG_KEYS = ("host", "container")
RAW_UNIT_TEXT = (
    "raw unit file text, not data: write each setting as a key of its section "
    "(e.g. linkConfig.MTUBytes = 1400)"
)


def _nix_code(reader: Reader, table: Mapping[str, object], key: KeyPath) -> NixCode | None:
    """A ``config`` field: Nix code by design, so only its presence can be checked here."""
    code = reader.get(table, key, "config", str)
    if code is None:
        return None
    if not code.strip():
        reader.error((*key, "config"), 'empty Nix code: write a module such as "{ }"')
        return None
    reader.nix_code.append(((*key, "config"), code))
    return NixCode(code)


def _user_code(reader: Reader, table: Mapping[str, object], key: KeyPath) -> UserCode:
    """A machine's ``imports`` and ``modules`` (:mod:`harness.scenario.usercode`)."""
    imports = []
    root = flake_root(reader.path)
    for index, written in enumerate(reader.strings(table, key, "imports") or ()):
        target = import_target(written, reader.path, root)
        if isinstance(target, str):
            reader.error((*key, "imports", index), target)
        else:
            imports.append(ImportPath(written, target))
    modules = reader.strings(table, key, "modules") or ()
    for index, name in enumerate(modules):
        problem = module_problem(name)
        if problem is not None:
            reader.error((*key, "modules", index), problem)
    return UserCode(tuple(imports), modules)


def read_host(reader: Reader, value: object) -> Host:
    table = reader.table(value, ("host",), HOST_KEYS)
    if table is None:
        return Host()
    specialisations = []
    if "specialisations" in table:
        key: KeyPath = ("host", "specialisations")
        for name, item in (reader.table(table["specialisations"], key) or {}).items():
            found = read_specialisation(reader, name, item, (*key, name))
            if found is not None:
                specialisations.append(found)
    return Host(
        _nix_code(reader, table, ("host",)),
        tuple(specialisations),
        _user_code(reader, table, ("host",)),
    )


def read_specialisation(
    reader: Reader, name: str, value: object, key: KeyPath
) -> Specialisation | None:
    """One specialisation; its container names are checked against the scenario's later."""
    if not NAME.match(name) or name == BASE_SYSTEM:
        reader.error(
            key,
            f"invalid specialisation name {name!r}: use letters, digits and '-' "
            f"(not at either end), not {BASE_SYSTEM!r}",
        )
    elif len(name) > FILE_NAME_MAX:
        reader.error(
            key,
            f"specialisation name {name[:20]!r}... is too long: it names a directory of the "
            f"built system, and a file name has at most {FILE_NAME_MAX} bytes",
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
    if not any(name in table for name in ("config", "containers", *USER_CODE_KEYS)):
        reader.error(
            key,
            "a specialisation changes something: give `config`, `imports`, `modules` or "
            "`containers`",
        )
    return Specialisation(
        name,
        _nix_code(reader, table, key),
        MappingProxyType(containers),
        _user_code(reader, table, key),
    )


def specialised_containers(reader: Reader, host: Host, containers: Sequence[ContainerSpec]) -> None:
    names = [container.name for container in containers]
    prebuilt = {container.name for container in containers if container.path is not None}
    for specialisation in host.specialisations:
        for container in specialisation.containers:
            key = ("host", "specialisations", specialisation.name, "containers", container)
            if container not in names:
                reader.error(key, f"unknown container {container!r}" + suggest(container, names))
            elif container in prebuilt:
                reader.error(
                    key,
                    f"container {container!r} runs a prebuilt `path`: a "
                    "specialisation can change only a container's `config`",
                )


def _absolute(reader: Reader, path: str | None, key: KeyPath) -> None:
    if path is not None and not path.startswith("/"):
        reader.error(key, f"expected an absolute path, got {path!r}")


def read_bind(reader: Reader, mount_point: str, value: object, key: KeyPath) -> BindMount | None:
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


def read_veth(reader: Reader, value: object, key: KeyPath) -> Veth:
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


def read_prebuilt_path(reader: Reader, value: object, key: KeyPath) -> str | PrebuiltSystem | None:
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


def read_container(reader: Reader, name: str, value: object) -> ContainerSpec | None:
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
            bind = read_bind(reader, mount_point, bind_value, (*key, "binds", mount_point))
            if bind is not None:
                binds.append(bind)
    path = read_prebuilt_path(reader, table["path"], (*key, "path")) if "path" in table else None
    configured = [name for name in ("config", *USER_CODE_KEYS) if name in table]
    if "path" in table and configured:
        reader.error(
            key,
            "set either `path` (a prebuilt system) or the container's NixOS configuration "
            f"(`config`, `imports`, `modules`): {', '.join(['path', *configured])} are set",
        )
    elif "path" not in table and not configured:
        reader.error(
            key,
            "set the container's NixOS configuration (`config` and/or `imports`, "
            "`modules`) or `path` (a prebuilt system)",
        )
    return ContainerSpec(
        name=name,
        config=_nix_code(reader, table, key),
        path=path,
        auto_start=reader.get(table, key, "autoStart", bool),
        restart_if_changed=reader.get(table, key, "restartIfChanged", bool),
        binds=tuple(binds),
        veth=read_veth(reader, table["network"], (*key, "network"))
        if "network" in table
        else Veth(),
        user=_user_code(reader, table, key),
    )


_NODE_NAME = re.compile(r"[a-z][a-z0-9]*\Z")
HOST_NAME_MAX = 63
"""Longest host name label: a node's name is its VM's host name."""


def read_node(reader: Reader, name: str, value: object) -> VmNode | None:
    key: KeyPath = ("nodes", name)
    if name == HOST:
        reader.error(key, f"{HOST!r} is the VM that runs the containers; choose another name")
    elif not _NODE_NAME.match(name) or keyword.iskeyword(name):
        reader.error(
            key,
            f"invalid node name {name!r}: the testScript names the VM by it, so "
            "use lowercase letters and digits, starting with a letter (not a Python keyword)",
        )
    elif (problem := driver_name_problem(name)) is not None:
        reader.error(key, f"invalid node name {name!r}: {problem}")
    elif len(name) > HOST_NAME_MAX:
        reader.error(
            key,
            f"node name {name!r} is too long: it is the VM's host name, which has at most "
            f"{HOST_NAME_MAX} characters",
        )
    table = reader.table(value, key, NODE_KEYS)
    if table is None:
        return None
    return VmNode(name, _nix_code(reader, table, key), _user_code(reader, table, key))


def case_clashes(reader: Reader, names: Sequence[str], nodes: Sequence[str]) -> None:
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
