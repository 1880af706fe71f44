"""Every unit key the module produces, in every eval case, is one nixpkgs accepts.

The eval tier's stand-ins take any key; a real NixOS evaluation refuses the keys that
nixos/modules/system/boot/systemd/nspawn.nix and networkd.nix do not list (the lists, and the
nixpkgs commits they were read from, are in nixpkgs_keys.py). The cases are all of cases.nix
that pass the module's assertions, and every scenario's generated test module: user settings in
them are checked too, as they would be.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from nixpkgs_keys import (
    NETDEV_KEYS,
    NETDEV_KINDS,
    NETDEV_REQUIRED,
    NETWORK_KEYS,
    NETWORK_OPTIONS,
    NETWORK_VALUES,
    NETWORKD_SOURCE,
    NSPAWN_KEYS,
    NSPAWN_OTHER_OPTIONS,
    NSPAWN_SOURCE,
    NSPAWN_VALUES,
)
from nspawn_eval import reference_cases, report
from test_generated import ROOT, SCENARIOS, evaluated

from harness.catalogue import generated_path
from harness.scenario.load import load_scenario

pytestmark = pytest.mark.eval

Problem = str


def section_problems(
    where: str,
    settings: Mapping[str, Any],
    keys: frozenset[str],
    values: Mapping[str, frozenset[object]],
) -> Iterator[Problem]:
    for key, value in settings.items():
        if key not in keys:
            yield f"{where}: key {key!r} is not accepted"
            continue
        allowed = values.get(key)
        for item in value if isinstance(value, list) else [value]:
            if allowed is not None and item not in allowed:
                yield f"{where}.{key}: value {item!r} is not one of {sorted(map(str, allowed))}"


def nspawn_problems(name: str, unit: Mapping[str, Any]) -> Iterator[Problem]:
    for section, settings in unit.items():
        if section in NSPAWN_OTHER_OPTIONS:
            continue
        if section not in NSPAWN_KEYS:
            yield f"nspawn {name}: section {section!r} is not an option of systemd.nspawn"
            continue
        yield from section_problems(
            f"nspawn {name}.{section}", settings, NSPAWN_KEYS[section], NSPAWN_VALUES[section]
        )


def network_problems(where: str, unit: Mapping[str, Any]) -> Iterator[Problem]:
    for option, settings in unit.items():
        if option not in NETWORK_OPTIONS:
            yield f"{where}: {option!r} is not an option of a network unit"
        elif option in NETWORK_KEYS:
            yield from section_problems(
                f"{where}.{option}", settings, NETWORK_KEYS[option], NETWORK_VALUES[option]
            )


def netdev_problems(where: str, unit: Mapping[str, Any]) -> Iterator[Problem]:
    settings = unit.get("netdevConfig", {})
    yield from section_problems(
        f"{where}.netdevConfig", settings, NETDEV_KEYS, {"Kind": NETDEV_KINDS}
    )
    for key in sorted(NETDEV_REQUIRED - set(settings)):
        yield f"{where}.netdevConfig: {key} is required"


def reference_problems(reference: Mapping[str, Any]) -> list[Problem]:
    problems = [
        p for name, unit in reference["nspawn"].items() for p in nspawn_problems(name, unit)
    ]
    problems += [
        p
        for unit, settings in reference["hostNetworks"].items()
        for p in network_problems(f"host network {unit}", settings)
    ]
    problems += [
        p
        for container, units in reference["containerNetworks"].items()
        for unit, settings in units.items()
        for p in network_problems(f"{container} network {unit}", settings)
    ]
    problems += [
        p
        for unit, settings in reference["hostNetdevs"].items()
        for p in netdev_problems(f"host netdev {unit}", settings)
    ]
    return problems


def test_every_case_produces_only_keys_nixpkgs_accepts(nixpkgs_lib: Path) -> None:
    cases = reference_cases(nixpkgs_lib)
    assert {"runtime-features", "attachments", "devices", "ports"} <= set(cases)
    problems = {case: reference_problems(report(nixpkgs_lib, case)["reference"]) for case in cases}
    assert {case: found for case, found in problems.items() if found} == {}, (
        f"checked against {NSPAWN_SOURCE} and {NETWORKD_SOURCE}"
    )


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        (
            {"nspawn": {"web": {"execConfig": {"Capabilities": ["CAP_NET_ADMIN"]}}}},
            "nspawn web.execConfig: key 'Capabilities' is not accepted",
        ),
        (
            {"nspawn": {"web": {"credentialsConfig": {}}}},
            "nspawn web: section 'credentialsConfig' is not an option of systemd.nspawn",
        ),
        (
            {"nspawn": {"web": {"networkConfig": {"VirtualEthernet": "maybe"}}}},
            "nspawn web.networkConfig.VirtualEthernet: value 'maybe' is not one of",
        ),
        (
            {"hostNetworks": {"10-x": {"networkConfig": {"DHCP": True}}}},
            "host network 10-x.networkConfig.DHCP: value True is not one of",
        ),
        (
            {"containerNetworks": {"web": {"10-x": {"linkConfig": {"Name": "eth0"}}}}},
            "web network 10-x.linkConfig: key 'Name' is not accepted",
        ),
        (
            {"hostNetworks": {"10-x": {"routeConfig": {}}}},
            "host network 10-x: 'routeConfig' is not an option of a network unit",
        ),
        (
            {"hostNetdevs": {"10-x": {"netdevConfig": {"Name": "br0", "Kind": "switch"}}}},
            "host netdev 10-x.netdevConfig.Kind: value 'switch' is not one of",
        ),
        (
            {"hostNetdevs": {"10-x": {"netdevConfig": {"Kind": "bridge"}}}},
            "host netdev 10-x.netdevConfig: Name is required",
        ),
    ],
)
def test_a_key_or_value_nixpkgs_refuses_is_reported(
    reference: dict[str, Any], problem: str
) -> None:
    empty = {"nspawn": {}, "hostNetworks": {}, "containerNetworks": {}, "hostNetdevs": {}}
    (found,) = reference_problems(empty | reference)
    assert found.startswith(problem), found


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_produces_only_keys_nixpkgs_accepts(nixpkgs_lib: Path, path: Path) -> None:
    data = evaluated(nixpkgs_lib, generated_path(ROOT, load_scenario(path)))
    reference = {
        "nspawn": data["nspawn"],
        "hostNetworks": data["hostNetworks"],
        "containerNetworks": data["guestNetworks"],
        "hostNetdevs": {},
    }
    assert reference_problems(reference) == [], (
        f"checked against {NSPAWN_SOURCE} and {NETWORKD_SOURCE}"
    )


def test_the_instance_options_besides_the_sections_are_accepted() -> None:
    unit = {
        "enable": True,
        "extraDrvConfig": "/nix/store/00000000000000000000000000000000-view",
        "execConfig": {"Boot": False},
    }
    empty = {"hostNetworks": {}, "containerNetworks": {}, "hostNetdevs": {}}
    assert reference_problems(empty | {"nspawn": {"web": unit}}) == []
