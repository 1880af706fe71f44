"""The runtime tier's lifecycle part (nix/host/lifecycle.nix, docs/lifecycle.md): the module's
``runtime-lifecycle`` settings on real systemd.

- reload: ``systemctl reload`` of reloader runs ``switch-to-configuration test`` of the system
  that /etc/nixos-nspawn/reloader.env names, inside the running container (a stand-in that
  records its call: the VM has no NixOS system), which keeps its Leader and boot id; a failing
  one fails the reload and leaves the container running (control: the reload must not pass);
- crash policy: reloader (``Restart=on-failure``) is started again after every process of its
  unit is killed; fragile (``restartOnFailure = false``) stays down (control);
- host network: shared's ``ip link`` shows the host's interface and its PID 1 is in the host's
  network namespace; joined is in the namespace ``lab`` the host made (control: shared is not);
- removed containers: what a switch used to do to a removed container (stop, then start from
  the bare template) fails; the module's own removed-containers.sh, run with an old and a new
  declared set, stops the container the new set drops and neither the others nor joined, which
  neither set names, as a machine started by hand (control: the dropped one must be down).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from runtime_plan import ROOT, Expect, Step, numbered
from support.vm.console import ConsoleMachine
from support.vm.install import install_case, install_files, template_entries, topology_of
from support.vm.units import STAND_IN_DIR, UnitFile

from harness.checks import Session

CASE = ROOT / "tests" / "reference" / "runtime-lifecycle.json"
REMOVED_SCRIPT = ROOT / "nix" / "host" / "removed-containers.sh"
CONTAINERS = ("reloader", "fragile", "shared", "joined")

SYSTEMS = "/usr/local/lib/nixos-nspawn-systems"
"""Stand-in systems below /usr, which every container binds read-only (the VM's /nix/store is
not the containers' store): what NixOS' store holds for the reload."""
NEW_SYSTEM, FAILING_SYSTEM = f"{SYSTEMS}/new", f"{SYSTEMS}/failing"
SWITCHED = "/run/nixos-nspawn-switched"
"""Where the stand-in switch-to-configuration records its call, in the container."""
ENV_FILE = "/etc/nixos-nspawn/reloader.env"
STATE = "/var/lib/nixos-nspawn/declared"
HOST_INTERFACE = "nn-hostif"
"""An interface of the host's own, made for the check (the VM has no network card)."""


def _stand_in(status: int) -> str:
    return f'#!/bin/sh\necho "$0 $*" > {SWITCHED}\nexit {status}\n'


def _leader(name: str) -> str:
    return f"machinectl show {name} -p Leader --value"


def _same_leader(name: str) -> str:
    return f'test "$({_leader(name)})" = "$(cat /run/{name}-leader)"'


def _in_lab(name: str) -> str:
    """Whether the container's PID 1 is in the network namespace /run/netns/lab."""
    inode = "stat -L -c %i"
    return f'test "$({inode} /proc/$({_leader(name)})/ns/net)" = "$({inode} /run/netns/lab)"'


def _active(name: str) -> str:
    return f"systemctl is-active systemd-nspawn@{name}.service"


def _host(run: str, label: str, exit: int = 0, **more: object) -> Expect:
    return Expect("command", {"on": "host", "run": run, "exit": exit, **more}, f"host,{label}")


def _removed(mode: str, *names: str) -> str:
    return f"sh {STAND_IN_DIR}/removed-containers.sh {STATE} {mode} {' '.join(names)}"


@dataclass(frozen=True)
class Control:
    """A negative control: an expectation that must fail, with the substring its message must
    contain."""

    expect: Expect
    message: str

    @property
    def id(self) -> str:
        return self.expect.id


def plan(host_interface: str) -> tuple[Step | Expect | Control, ...]:
    """The entries in order; *host_interface* is an interface of the host's own."""
    remember = Step("run", {"on": "host", "run": f"{_leader('reloader')} > /run/reloader-leader"})
    entries: list[Step | Expect | Control] = [
        Expect("unit-active", {"container": "reloader"}),
        remember,
        Step("run", {"on": "reloader", "run": "cat /proc/sys/kernel/random/boot_id > /run/boot"}),
        # -- reload
        _host("systemctl reload systemd-nspawn@reloader.service", "reload"),
        Expect(
            "command",
            {
                "on": "reloader",
                "run": f"cat {SWITCHED}",
                "exit": 0,
                "output": f"{NEW_SYSTEM}/bin/switch-to-configuration test",
            },
            "reloader,the new system's switch-to-configuration ran inside",
        ),
        _host(_same_leader("reloader"), "reloader keeps its Leader through the reload"),
        Expect(
            "command",
            {
                "on": "reloader",
                "run": 'test "$(cat /proc/sys/kernel/random/boot_id)" = "$(cat /run/boot)"',
                "exit": 0,
            },
            "reloader,keeps its boot id through the reload",
        ),
        Step(
            "run", {"on": "host", "run": f"echo NIXOS_NSPAWN_SYSTEM={FAILING_SYSTEM} > {ENV_FILE}"}
        ),
        Control(
            _host("systemctl reload systemd-nspawn@reloader.service", "a failing reload"),
            "exit status 1",
        ),
        _host(
            f"{_same_leader('reloader')} && {_active('reloader')}",
            "reloader keeps running after a failed reload",
        ),
        Step("run", {"on": "host", "run": f"echo NIXOS_NSPAWN_SYSTEM={NEW_SYSTEM} > {ENV_FILE}"}),
        # -- crash policy
        Expect("unit-active", {"container": "fragile"}),
        # A crash of the whole container (as the out-of-memory killer's): every process of the
        # unit killed, systemd-nspawn included.
        Step(
            "run",
            {
                "on": "host",
                "run": "systemctl kill --signal=SIGKILL "
                "systemd-nspawn@reloader.service systemd-nspawn@fragile.service",
            },
        ),
        _host(
            f'test "$(systemctl show -P NRestarts systemd-nspawn@reloader.service)" -ge 1 && '
            f"{_active('reloader')} && ! {_same_leader('reloader')}",
            "reloader is started again after a crash",
            within=180,
        ),
        Control(
            _host(_active("fragile"), "fragile is started again after a crash", within=20),
            "exit status 3",
        ),
        _host(
            "systemctl show -P Result systemd-nspawn@fragile.service",
            "fragile stays down after a crash",
            output="signal",
        ),
        # -- host network and a namespace of the host's
        Expect("unit-active", {"container": "shared"}),
        Expect("unit-active", {"container": "joined"}),
        Expect(
            "command",
            {"on": "shared", "run": f"ip -o link show dev {host_interface}", "exit": 0},
            "shared,ip link shows the host's interface",
        ),
        _host(
            f'test "$(readlink /proc/$({_leader("shared")})/ns/net)" = '
            '"$(readlink /proc/self/ns/net)"',
            "shared is in the host's network namespace",
        ),
        Control(
            Expect(
                "command",
                {"on": "reloader", "run": f"ip -o link show dev {host_interface}", "exit": 0},
                "reloader,ip link shows the host's interface",
            ),
            "exit status 1",
        ),
        _host(_in_lab("joined"), "joined is in the namespace lab"),
        Control(_host(_in_lab("shared"), "shared is in the namespace lab"), "exit status 1"),
        # -- removed containers
        Step("run", {"on": "host", "run": _removed("stop", "reloader", "fragile", "shared")}),
        Step("run", {"on": "host", "run": _removed("stop", "reloader", "fragile")}),
        _host(_active("shared"), "shared is stopped once removed", exit=3),
        Control(_host(_active("shared"), "shared keeps running once removed"), "exit status 3"),
        _host(_active("reloader"), "reloader keeps running when shared is removed"),
        _host(_active("joined"), "joined, never declared, keeps running"),
        # What a switch did to a removed container before the template's drop-in: stop it,
        # then start it from the bare template, without its .nspawn file. On NixOS the empty
        # root fails the start itself; the VM's root skeleton fails once nspawn looks for init.
        Step(
            "run",
            {
                "on": "host",
                "run": "rm -rf /etc/systemd/nspawn/shared.nspawn "
                "/etc/systemd/system/systemd-nspawn@shared.service.d && systemctl daemon-reload "
                "&& { systemctl start systemd-nspawn@shared.service || true; }",
            },
        ),
        _host(
            "systemctl is-failed systemd-nspawn@shared.service",
            "a removed container started from the bare template fails",
            output="failed",
            within=60,
        ),
    ]
    return entries_numbered(entries)


def entries_numbered(
    entries: list[Step | Expect | Control],
) -> tuple[Step | Expect | Control, ...]:
    """The entries with ``#n`` on repeated ids, as a scenario file numbers them."""
    plain = [e.expect if isinstance(e, Control) else e for e in entries]
    done = numbered(tuple(plain))
    return tuple(
        Control(numbered_entry, e.message) if isinstance(e, Control) else numbered_entry
        for e, numbered_entry in zip(entries, done, strict=True)
    )


def prepare(machine: ConsoleMachine) -> None:
    """What a NixOS host would have: the systems in the store (stand-ins), the reload's file in
    /etc, the namespace lab, the module's removal script."""
    install_files(
        machine,
        [
            UnitFile(f"{NEW_SYSTEM}/bin/switch-to-configuration", _stand_in(0)),
            UnitFile(f"{FAILING_SYSTEM}/bin/switch-to-configuration", _stand_in(4)),
            UnitFile(ENV_FILE, f"NIXOS_NSPAWN_SYSTEM={NEW_SYSTEM}\n"),
            UnitFile(f"{STAND_IN_DIR}/removed-containers.sh", REMOVED_SCRIPT.read_text()),
        ],
    )
    machine.succeed(
        f"chmod 0755 {SYSTEMS}/*/bin/switch-to-configuration && ip netns add lab && "
        f"ip link add {HOST_INTERFACE} type dummy"
    )


def run(
    machine: ConsoleMachine,
    out_dir: Path,
    stdout: TextIO,
    results: dict[str, dict[str, Any]],
    steps: dict[str, bool],
) -> None:
    """Install and start the containers, then run the entries into *results* and *steps*
    (the run's record), by id."""
    case = json.loads(CASE.read_text())
    prepare(machine)
    install_case(machine, case)
    units = " ".join(f"systemd-nspawn@{name}.service" for name in CONTAINERS)
    machine.succeed(f"systemctl start --no-block {units}")
    topology = topology_of(case["nspawn"], template_entries(machine))
    session = Session(machine, topology, out_dir, stdout=stdout)
    for entry in plan(HOST_INTERFACE):
        if isinstance(entry, Step):
            steps[entry.id] = session.step(entry.id, entry.check, entry.params)
        else:
            expect = entry.expect if isinstance(entry, Control) else entry
            results[expect.id] = asdict(session.check(expect.id, expect.check, expect.params))
