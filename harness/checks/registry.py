"""The registry of checks: their specs (``CHECKS``) and the functions that run them."""

from collections.abc import Callable, Mapping
from types import MappingProxyType

from . import command, faults, isolation, lifecycle, marks, network, steps
from .nodes import Context
from .spec import CheckSpec, Params

CheckFunction = Callable[[Context, Params], str]
"""Runs a check; returns the success message or raises :class:`harness.checks.nodes.Failure`."""

_REGISTRY: tuple[tuple[CheckSpec, CheckFunction], ...] = (
    (lifecycle.UNIT_ACTIVE, lifecycle.check_unit_active),
    (network.REACHABLE, network.check_reachable),
    (network.UNREACHABLE, network.check_unreachable),
    (network.ADDRESS, network.check_address),
    (network.HTTP, network.check_http),
    (network.TCP, network.check_tcp),
    (lifecycle.EPHEMERAL, lifecycle.check_ephemeral),
    (isolation.USERNS, isolation.check_userns),
    (isolation.STORE_READONLY, isolation.check_store_readonly),
    (isolation.NO_NIX_DAEMON, isolation.check_no_nix_daemon),
    (command.COMMAND, command.check_command),
    (marks.UNCHANGED, marks.check_unchanged),
    (marks.RESTARTED, marks.check_restarted),
)


def _by_name(
    registry: tuple[tuple[CheckSpec, CheckFunction], ...],
) -> tuple[Mapping[str, CheckSpec], Mapping[str, CheckFunction]]:
    """The specs and the functions of ``registry``, each by TOML name."""
    return (
        MappingProxyType({spec.name: spec for spec, _ in registry}),
        MappingProxyType({spec.name: function for spec, function in registry}),
    )


CHECKS, FUNCTIONS = _by_name(_REGISTRY)
"""Every check by its TOML name (the ``check`` key of an ``[[expect]]`` table), and the
functions that run them."""

_STEPS: tuple[tuple[CheckSpec, CheckFunction], ...] = (
    (steps.RESTART, steps.step_restart),
    (steps.STOP, steps.step_stop),
    (steps.START, steps.step_start),
    (steps.RUN, steps.step_run),
    (steps.WAIT_UNIT, steps.step_wait_unit),
    (steps.WAIT_PORT, steps.step_wait_port),
    (steps.SWITCH, steps.step_switch),
    (steps.REBOOT, steps.step_reboot),
    (marks.MARK, marks.step_mark),
    (faults.PARTITION, faults.step_partition),
    (faults.HEAL, faults.step_heal),
    (faults.KILL, faults.step_kill),
    (faults.FREEZE, faults.step_freeze),
    (faults.THAW, faults.step_thaw),
    (faults.KILL_UNIT, faults.step_kill_unit),
)

STEPS, STEP_FUNCTIONS = _by_name(_STEPS)
"""Every step by its TOML name (``[[step]] action = ...``), and the functions that run them."""
