"""What a switch and a crash do to a container (nix/host/lifecycle.nix, docs/lifecycle.md).

A switch decides per active unit with nixpkgs' switch-to-configuration-ng
(pkgs/by-name/sw/switch-to-configuration-ng/src/src/main.rs, read at nixpkgs 173582451f):
- a template instance without a unit file of its own (`systemd-nspawn@web.service` has only a
  drop-in) is parsed as the template, the template's drop-ins, then the instance's drop-ins
  (`parse_unit`); the values of a key append, and a boolean is its last value;
- `compare_units`: equal, or only `X-Reload-Triggers` of [Unit] differs (reload), or anything
  else differs (`handle_modified_unit`): `X-ReloadIfChanged=true` reloads,
  `X-RestartIfChanged=false` skips ("NOT restarting"), otherwise the unit is stopped before the
  activation and started after it;
- the template `systemd-nspawn@.service` is in NixOS' upstream units, so it exists in both
  generations: a removed instance is compared, not removed (`X-StopOnRemoval` is never read).

``switch_action`` below is that decision, for the drop-ins the module writes; the tests feed it
the drop-ins of two evaluated generations. The finding that made the module change: before the
template's drop-in, a removed container was stopped and started again from the bare template
(no .nspawn file, an empty /var/lib/machines/<name>), which fails the switch.
"""

import json
from collections.abc import Mapping
from typing import Any

import pytest
from expected import TEMPLATE_DROPIN, toplevel

pytestmark = pytest.mark.eval

Unit = dict[str, dict[str, list[str]]]


def _ini(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dropin(service: Mapping[str, Any]) -> Unit:
    """The keys NixOS writes into a service's drop-in, as switch-to-configuration reads them.
    The triggers stand for the store files whose names NixOS writes (equal lists, equal names)."""
    unit = {key: [_ini(value)] for key, value in service["unitConfig"].items()}
    if service.get("restartTriggers"):
        unit["X-Restart-Triggers"] = [json.dumps(service["restartTriggers"])]
    if service.get("reloadTriggers"):
        unit["X-Reload-Triggers"] = [json.dumps(service["reloadTriggers"])]
    section: dict[str, list[str]] = {}
    for key, value in service["serviceConfig"].items():
        section[key] = [_ini(v) for v in value] if isinstance(value, list) else [_ini(value)]
    for key, value in service["environment"].items():
        section.setdefault("Environment", []).append(f"{key}={value}")
    if not service["restartIfChanged"]:
        section["X-RestartIfChanged"] = ["false"]
    return {name: keys for name, keys in {"Unit": unit, "Service": section}.items() if keys}


def parsed(*dropins: Unit) -> Unit:
    """A unit as `parse_unit` sees it: the template's file (the same in both generations, left
    out), then the drop-ins in order; a key's values append."""
    unit: Unit = {}
    for part in dropins:
        for section, keys in part.items():
            for key, values in keys.items():
                unit.setdefault(section, {}).setdefault(key, []).extend(values)
    return unit


def _last_is_true(unit: Unit, key: str, default: bool) -> bool:
    values = unit.get("Service", {}).get(key)
    return values[-1] in ("1", "yes", "true", "on") if values else default


def switch_action(old: Unit, new: Unit) -> str:
    """What the switch does to an active instance: none, reload, skip or stop-start."""
    if old == new:
        return "none"
    keys = {(s, k) for unit in (old, new) for s, section in unit.items() for k in section}
    changed = {(s, k) for s, k in keys if old.get(s, {}).get(k) != new.get(s, {}).get(k)}
    if changed == {("Unit", "X-Reload-Triggers")}:
        return "reload"
    if _last_is_true(new, "X-ReloadIfChanged", False):
        return "reload"
    if not _last_is_true(new, "X-RestartIfChanged", True):
        return "skip"
    return "stop-start"


def _generation(data: Mapping[str, Any]) -> tuple[Unit, dict[str, Unit]]:
    """The template's drop-in and each declared container's, of one evaluated host."""
    services = data["host"]["services"]
    template = dropin(services["systemd-nspawn@"])
    instances = {
        unit.removeprefix("systemd-nspawn@"): dropin(service)
        for unit, service in services.items()
        if unit.startswith("systemd-nspawn@") and unit != "systemd-nspawn@"
    }
    return template, instances


def _action(run, old_case: str, new_case: str, name: str, *, template: bool = True) -> str:
    old_template, old = _generation(run(old_case))
    new_template, new = _generation(run(new_case))
    before = [old_template] if template else []
    after = [new_template] if template else []
    return switch_action(
        parsed(*before, *([old[name]] if name in old else [])),
        parsed(*after, *([new[name]] if name in new else [])),
    )


# --- what a switch does ----------------------------------------------------------------------


def test_without_the_template_dropin_a_removed_container_would_be_started_bare(run) -> None:
    # The finding (issue 24, point 0): the instance's drop-in disappears, the template stays,
    # so the unit "changed" and is stopped and started from the bare template.
    assert _action(run, "reload", "removed-all", "web", template=False) == "stop-start"


def test_a_removed_container_is_left_to_the_activation_which_stops_it(run) -> None:
    assert _action(run, "reload", "removed-all", "web") == "skip"
    snippet = run("removed-all")["host"]["activationScripts"]["nixos-nspawn-removed"]
    text = snippet["text"]
    assert "nixosNspawnRemoved=stop" in text
    assert "nixosNspawnRemoved=record" in text
    assert text.rstrip().endswith('/var/lib/nixos-nspawn/declared "$nixosNspawnRemoved"')
    names = run("reload")["host"]["activationScripts"]["nixos-nspawn-removed"]["text"]
    assert names.rstrip().endswith('"$nixosNspawnRemoved" plain sealed web')


def test_a_machine_started_by_hand_is_never_restarted_by_a_switch(run) -> None:
    # No drop-in of its own in either generation: the first switch with the template's
    # drop-in skips it, later ones find it equal.
    template, _ = _generation(run("removed-all"))
    assert switch_action(parsed(), parsed(template)) == "skip"
    assert switch_action(parsed(template), parsed(template)) == "none"
    assert run("removed-all")["host"]["services"] == {"systemd-nspawn@": TEMPLATE_DROPIN}


def test_a_changed_system_reloads_and_a_changed_unit_restarts(run) -> None:
    assert _action(run, "reload", "reload", "web") == "none"
    assert _action(run, "reload", "reload-system", "web") == "reload"
    assert _action(run, "reload", "reload-unit", "web") == "stop-start"


def test_by_default_a_changed_system_restarts_and_restart_if_changed_off_skips(run) -> None:
    assert _action(run, "reload", "reload-system", "plain") == "stop-start"
    assert _action(run, "crash-policy", "restart-off", "steady") == "skip"


def test_a_closure_only_store_restarts_instead_of_reloading(run) -> None:
    assert _action(run, "reload", "reload-system", "sealed") == "stop-start"
    data = run("reload")
    sealed = data["host"]["services"]["systemd-nspawn@sealed"]
    assert sealed["reloadTriggers"] == []
    assert sealed["restartTriggers"][0] == toplevel(data, "sealed")
    assert "ExecReload" not in sealed["serviceConfig"]
    assert "nixos-nspawn/sealed.env" not in data["host"]["etc"]


# --- the reload ------------------------------------------------------------------------------


def test_the_reload_runs_the_new_system_inside_the_running_container(run) -> None:
    data = run("reload")
    web = data["host"]["services"]["systemd-nspawn@web"]
    top = toplevel(data, "web")
    assert web["reloadTriggers"] == [top]
    # The unit's own triggers leave the system's path out, or every change would restart.
    assert top not in json.dumps(web["restartTriggers"])
    assert web["serviceConfig"]["EnvironmentFile"] == "-/etc/nixos-nspawn/web.env"
    assert web["serviceConfig"]["ExecReload"] == (
        "/nix/store/22222222222222222222222222222222-systemd-258/bin/systemd-run --machine=web "
        "--wait --quiet --collect --service-type=exec "
        "${NIXOS_NSPAWN_SYSTEM}/bin/switch-to-configuration test"
    )
    assert data["host"]["etc"]["nixos-nspawn/web.env"] == {"text": f"NIXOS_NSPAWN_SYSTEM={top}\n"}
    # NixOS asserts against the service's reloadIfChanged together with reloadTriggers.
    assert "reloadIfChanged" not in web


# --- when a container fails ------------------------------------------------------------------


def test_containers_restart_on_failure_unless_told_not_to(run) -> None:
    overrides = run("crash-policy")["reference"]["serviceOverrides"]
    assert overrides["steady"]["Restart"] == "on-failure"
    assert overrides["fragile"]["Restart"] == "no"


# --- the host's network and a namespace of its ----------------------------------------------


def test_a_shared_network_has_no_private_namespace_and_no_link(run) -> None:
    data = run("host-network")
    for name in ("shared", "joined"):
        assert data["reference"]["nspawn"][name]["networkConfig"] == {
            "Private": False,
            "VirtualEthernet": False,
        }
        assert data["reference"]["containerNetworks"][name] == {}
    assert data["reference"]["hostNetworks"] == {}
    # Its firewall could not load a rule in a namespace its root has no privileges over.
    assert data["guests"]["shared"]["firewallEnable"] is False
    assert data["guests"]["joined"]["firewallEnable"] is False
    assert run("reload")["guests"]["web"]["firewallEnable"] is True
    overrides = data["reference"]["serviceOverrides"]
    # The template's command line stays; systemd-nspawn runs in the namespace it joins.
    assert "ExecStart" not in overrides["shared"]
    assert "ExecStart" not in overrides["joined"]
    assert "NetworkNamespacePath" not in overrides["shared"]
    assert overrides["joined"]["NetworkNamespacePath"] == "/run/netns/lab"
