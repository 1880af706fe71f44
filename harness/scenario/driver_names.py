"""The names the NixOS test driver binds in a testScript's namespace, which no node may take.

The driver runs the testScript with the symbols of ``Driver.test_symbols()``
(nixos/lib/test-driver/src/test_driver/driver.py): its general symbols, one per machine
(``pythonize_name`` of its name), ``machine`` when there is exactly one machine, and
``vlan<N>`` for every VLAN, bound after the machines, so that a node named ``vlan1`` would be the
VLAN object in the script. nixpkgs' build-time type check (nixos/lib/testing/driver.nix)
declares the same names, with those of ``nixos/lib/test-script-prepend.py``, for mypy, which
reports a node that repeats one. The VLAN numbers are in the nodes' Nix code
(``virtualisation.vlans``, 1 by default), so every ``vlan<N>`` is taken.
"""

from __future__ import annotations

import re

DRIVER_REVISION = "003d58163f469fbeb0d51e4ef8d46af622759627"
"""The nixpkgs commit whose driver.py :data:`GENERAL_SYMBOLS` transcribes."""

GENERAL_SYMBOLS = frozenset(
    {
        "start_all",
        "test_script",
        "machines_qemu",
        "machines_nspawn",
        "vlans",
        "driver",
        "log",
        "os",
        "create_machine",
        "subtest",
        "run_tests",
        "join_all",
        "retry",
        "serial_stdout_off",
        "serial_stdout_on",
        "polling_condition",
        "BaseMachine",
        "t",
        "debug",
    }
)
"""``general_symbols`` of ``Driver.test_symbols()`` at :data:`DRIVER_REVISION`."""

OTHER_NAMES = frozenset(
    {
        "machine",  # the one machine of a single-machine test
        "machines",  # the older drivers' list of machines (and test-script-prepend.py's)
        "session",  # the generated testScript's own globals
        "topology",
        "checks",
    }
)

DRIVER_NAMES = GENERAL_SYMBOLS | OTHER_NAMES
"""Every fixed name of a testScript's namespace that a node's machine would shadow."""

VLAN_NAME = re.compile(r"vlan[0-9]+\Z")


def driver_name_problem(name: str) -> str | None:
    """Why the driver's namespace cannot have a machine called ``name``, or None."""
    if VLAN_NAME.match(name):
        return (
            f"the test driver names its VLANs vlan<N> in the testScript, so a node {name!r} "
            "would be a VLAN there: choose another name"
        )
    if name in DRIVER_NAMES:
        return (
            f"the testScript already has a {name!r} (the test driver's or the harness's), "
            "which the node would replace: choose another name"
        )
    return None
