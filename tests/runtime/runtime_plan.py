"""The runtime tier's plan: what is installed in the one VM, and which checks run against it.

The module's exported ``runtime-pair`` settings (alpha: own veth and two writable binds, one
with ``:`` and ``\\`` in its paths; beta: zone ``lab``) and ``runtime-features`` settings (what
users of classic containers rely on: ``features`` with a forwarded port, a tmpfs, an extra
capability, /dev/fuse, TUN and a bind on a late mount; ``attached`` with an extra veth, a MACVLAN
and a moved interface; ``bridged`` on the host's bridge ``br0``; a container with a 28-character
name) and ``runtime-beyond`` settings (gamma: credentials, limits and an extra flag; delta: the
closure-only store; epsilon: Nix over an overlay store; zeta: Nix over an overlay of the
closure-only store) are installed next to broken variants of
alpha, gamma and delta, started in waves (see :class:`Plan`), and every expectation runs through
``harness.checks.Session`` -- the code the generated testScripts call.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import shlex
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from support.vm.console import ConsoleMachine, VmConfig
from support.vm.image import ensure_image
from support.vm.install import (
    NIX,
    add_to_store,
    install_case,
    install_files,
    install_stand_in_closure,
    template_entries,
    topology_of,
)
from support.vm.units import STAND_IN_DIR, UnitFile, translate_nspawn

from harness.checks import Session, Topology
from harness.checks.errors import assertion_failures
from harness.checks.registry import CHECKS, STEPS
from harness.checks.spec import CheckSpec

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "runtime-pair.json"
FEATURES = ROOT / "tests" / "reference" / "runtime-features.json"
BEYOND = ROOT / "tests" / "reference" / "runtime-beyond.json"
NEGATIVE_TIMEOUT = 30
"""Seconds a negative control's check waits for what will never come (the good containers are
up by then, so waiting longer would only prove the same thing later)."""


@dataclass(frozen=True)
class Expect:
    """One ``session.check`` call. Its id is the one a scenario's ``[[expect]]`` gets: the
    registry's :meth:`~harness.checks.spec.CheckSpec.expectation_id`, ``#n`` appended to the
    n-th use of an id (see :func:`numbered`). ``label`` replaces the registry's label where that
    is not unique: a command's label is its command line, clipped."""

    check: str
    params: dict[str, object]
    label: str | None = None
    repeat: int = 1

    registry: ClassVar[Mapping[str, CheckSpec]] = CHECKS

    @property
    def base_id(self) -> str:
        """The id without the ``#n`` of a repeat."""
        if self.label is not None:
            return f"{self.check}[{self.label}]"
        return self.registry[self.check].expectation_id(self.params)

    @property
    def id(self) -> str:
        return self.base_id if self.repeat == 1 else f"{self.base_id}#{self.repeat}"


def numbered(entries: tuple[Expect, ...], before: tuple[Expect, ...] = ()) -> tuple[Expect, ...]:
    """``entries`` with ``#2``, ``#3`` appended to ids already used in the same session (in
    ``before`` or earlier in ``entries``), as the scenario loader numbers a file's repeats."""
    seen = Counter(entry.base_id for entry in before)
    out = []
    for entry in entries:
        seen[entry.base_id] += 1
        out.append(replace(entry, repeat=seen[entry.base_id]))
    return tuple(out)


WEB = (
    "mkdir -p /run/www && echo hello-from-alpha > /run/www/index.html && "
    "systemd-run --unit=www busybox httpd -f -p 80 -h /run/www"
)

# alpha's second bind has `:` and `\` in both paths (the module escapes them for Bind=): a file
# the host writes into /srv/odd:dir\x must be what alpha reads at /var/lib/odd:dir\x.
ODD_HOST, ODD_INSIDE = (
    shlex.quote("/srv/odd:dir\\x/from-host"),
    shlex.quote("/var/lib/odd:dir\\x/from-host"),
)


def _unified_cgroup(name: str) -> Expect:
    """The container's /sys/fs/cgroup is the unified hierarchy (cgroup2), not the legacy one
    that nspawn mounts for a root in which it finds no systemd (the module's
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY)."""
    return Expect(
        "command",
        {"on": name, "run": "stat -fc %T /sys/fs/cgroup", "output": "cgroup2fs"},
        f"{name},unified cgroup hierarchy",
    )


HOST0_FIRST = (
    "up=$(systemctl show -P ExecMainExitTimestampMonotonic nixos-nspawn-host0.service) && "
    "status=$(systemctl show -P ExecMainStatus nixos-nspawn-host0.service) && "
    "networkd=$(systemctl show -P ExecMainStartTimestampMonotonic systemd-networkd.service) && "
    'test "$status" = 0 && test "$up" -gt 0 && test "$up" -le "$networkd" && '
    "echo host0 up before networkd"
)
"""The container's nixos-nspawn-host0.service ran, succeeded and had finished before its
networkd started (an unknown unit shows 0 for both properties of its own)."""


def _host0_first(name: str) -> Expect:
    return Expect(
        "command",
        {"on": name, "run": HOST0_FIRST, "output": "host0 up before networkd"},
        f"{name},host0 up before networkd",
    )


PAIR: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "alpha"}),
    Expect("unit-active", {"container": "beta"}),
    Expect("address", {"node": "alpha", "interface": "host0", "dhcp": True}),
    Expect("address", {"node": "beta", "interface": "host0", "dhcp": True}),
    Expect("address", {"node": "host", "interface": "ve-alpha", "prefix": "fe80::/10"}),
    Expect("reachable", {"from": "host", "to": "alpha"}),
    Expect("reachable", {"from": "alpha", "to": "host"}),
    Expect("reachable", {"from": "host", "to": "beta"}),
    Expect("reachable", {"from": "beta", "to": "host"}),
    Expect("reachable", {"from": "host", "to": "alpha", "family": "link-local"}),
    Expect("reachable", {"from": "host", "to": "alpha", "by": "name"}),
    Expect("command", {"on": "alpha", "run": WEB}, "alpha,web server"),
    Expect("http", {"from": "host", "to": "alpha", "body": "hello-from-alpha"}),
    Expect("command", {"on": "host", "run": f"echo odd-bind > {ODD_HOST}"}, "host,odd bind"),
    Expect(
        "command",
        {"on": "alpha", "run": f"cat {ODD_INSIDE}", "output": "odd-bind"},
        "alpha,odd bind",
    ),
    Expect("tcp", {"from": "host", "to": "alpha", "port": 80}),
    Expect("store-readonly", {"container": "alpha"}),
    Expect("store-readonly", {"container": "beta"}),
    Expect("no-nix-daemon", {"container": "alpha"}),
    Expect("no-nix-daemon", {"container": "beta"}),
    Expect(
        "command",
        {"on": "host", "run": "machinectl list --no-legend", "output": "beta"},
        "host,machinectl",
    ),
    Expect(
        "command",
        {"on": "host", "run": "cat /proc/sys/fs/inotify/max_user_instances", "output": "8192"},
        "host,inotify instance limit",
    ),
    Expect("ephemeral", {"container": "alpha"}),
    Expect("ephemeral", {"container": "beta"}),
    Expect("userns", {"container": "alpha"}),
    Expect("userns", {"container": "beta"}),
    _unified_cgroup("alpha"),
    _host0_first("alpha"),
)

# --- runtime-features ---------------------------------------------------------------------

LONG = "a-container-with-a-long-name"
HOST_ADDRESS = "10.77.0.1"
"""An address of the host that is not loopback: br0's, from the case's own host networks."""

WEB_FEATURES = WEB.replace("alpha", "features")


def fetch(address: str, port: int) -> str:
    """An HTTP GET of ``/`` through bash's ``/dev/tcp``, as the ``http`` check sends it (the
    image has no curl of its own, and Debian's busybox wget crashed on the VM)."""
    script = (
        f"exec 3<>/dev/tcp/{address}/{port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"
    )
    return f"timeout 5 bash -c {shlex.quote(script)}"


FORWARDED = f"for i in $(seq 60); do {fetch(HOST_ADDRESS, 8080)} && exit 0; sleep 1; done; exit 1"


def cap_ipc_lock(container: str) -> str:
    """Prints ``CAP_IPC_LOCK=1`` if the container's init has CAP_IPC_LOCK (bit 14) effective."""
    return (
        f"pid=$(machinectl show {container} -p Leader --value) && "
        "cap=$(awk '/^CapEff:/ {print $2}' /proc/$pid/status) && "
        "echo CAP_IPC_LOCK=$(( (0x$cap >> 14) & 1 ))"
    )


IN_UNIT = "systemd-run --wait --pipe --quiet </dev/null "
"""Runs a command as a unit of the container's systemd, so in the container's cgroup, where the
unit's device policy (DeviceAllow=) applies; a command entered with nsenter stays in the host's
cgroup and would open any device node it can see. (Its stdin is not the console's: `--pipe`
would hand the command channel to the unit.)"""
FUSE_OPEN = IN_UNIT + "sh -c 'exec 3<>/dev/fuse && echo opened /dev/fuse'"


def wait_up(interface: str) -> str:
    """Succeeds once ``interface`` is up with a carrier (networkd brings it up)."""
    return (
        f"for i in $(seq 60); do ip -o link show {interface} | grep -q LOWER_UP && exit 0; "
        f"sleep 1; done; ip -o link show {interface}; exit 1"
    )


# The unit wants and is ordered after the device of the interface it takes, by the name
# systemd-escape gives it. Once the device appears, systemd merges that name into the device's
# own unit (sys-devices-virtual-net-...), and the dependency lists show the merged unit: any of
# the unit's names counts.
MOVED_DEVICE = (
    "unit=$(systemd-escape --path --suffix=device /sys/subsystem/net/devices/dm-moved) && "
    "names=$(systemctl show -p Names --value \"$unit\" | tr ' ' '\\n') && "
    "printf 'names: %s\\n' $names && for dep in Wants After; do "
    "systemctl show -p $dep --value systemd-nspawn@attached | tr ' ' '\\n' | "
    'grep -xF "$names" || exit 1; done'
)

# A file system that is not mounted at boot (as `noauto` in fstab): the bind source of
# features' /var/lib/late is on it, so only the unit's RequiresMountsFor= mounts it in time.
LATE_MOUNT = UnitFile(
    "/etc/systemd/system/srv-late\\x20mount.mount",
    "[Mount]\nWhat=/srv/late-backing\nWhere=/srv/late mount\nType=none\nOptions=bind\n",
)
LATE_BACKING = (
    "mkdir -p /srv/late-backing/data && echo from-the-late-mount > /srv/late-backing/data/marker"
)

FEATURE_CHECKS: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "features"}),
    Expect("unit-active", {"container": "attached"}),
    Expect("unit-active", {"container": "bridged"}),
    Expect("unit-active", {"container": LONG}),
    # forwardPorts: from the host's own non-loopback address; never from localhost.
    Expect("command", {"on": "features", "run": WEB_FEATURES}, "features,web server"),
    Expect(
        "command",
        {"on": "host", "run": FORWARDED, "output": "hello-from-features"},
        "host,forwarded port",
    ),
    Expect(
        "command",
        {
            "on": "host",
            "run": f"{fetch('127.0.0.1', 8080)} 2>&1",
            "exit": 1,
            "output": "Connection refused",
        },
        "host,localhost not forwarded",
    ),
    # tmpfs, capabilities, devices, enableTun (alpha has none of them).
    Expect(
        "command",
        {"on": "features", "run": "stat -f -c %T /var/tmp", "output": "tmpfs"},
        "features,tmpfs",
    ),
    Expect(
        "command",
        {"on": "alpha", "run": 'test "$(stat -f -c %T /var/tmp)" != tmpfs'},
        "alpha,no tmpfs",
    ),
    Expect(
        "command",
        {"on": "host", "run": cap_ipc_lock("features"), "output": "CAP_IPC_LOCK=1"},
        "host,features capability",
    ),
    Expect(
        "command",
        {"on": "host", "run": cap_ipc_lock("alpha"), "output": "CAP_IPC_LOCK=0"},
        "host,alpha capability",
    ),
    Expect(
        "command",
        {"on": "features", "run": FUSE_OPEN, "output": "opened /dev/fuse"},
        "features,fuse",
    ),
    Expect("command", {"on": "alpha", "run": "test -e /dev/fuse", "exit": 1}, "alpha,no fuse"),
    Expect(
        "command",
        {
            "on": "features",
            "run": IN_UNIT + "ip tuntap add dev tun9 mode tun && ip -o link show tun9",
            "output": "tun9",
        },
        "features,tun",
    ),
    # Binds wait for their source: the late mount is mounted before the container binds it.
    Expect(
        "command",
        {"on": "features", "run": "cat /var/lib/late/marker", "output": "from-the-late-mount"},
        "features,late bind",
    ),
    Expect(
        "command",
        {
            "on": "host",
            "run": "systemctl show -p RequiresMountsFor --value systemd-nspawn@features",
            "output": "/srv/late mount/data",
        },
        "host,mounts for a space",
    ),
    Expect(
        "command",
        {
            "on": "host",
            "run": "systemctl show -p RequiresMountsFor --value "
            "systemd-nspawn@features | tr ' ' '\\n' | grep -x /srv/50%",
        },
        "host,mounts for a percent",
    ),
    # network.veth.bridge: a port of the host's bridge, DHCP from the bridge's network.
    Expect(
        "command",
        {"on": "host", "run": "ip -o link show master br0", "output": "vb-bridged"},
        "host,bridge member",
    ),
    Expect("address", {"node": "bridged", "interface": "host0", "dhcp": True}),
    Expect("reachable", {"from": "host", "to": "bridged"}),
    # extraVeths, macvlans, interfaces.
    Expect("command", {"on": "host", "run": wait_up("vx-attached")}, "host,extra veth up"),
    Expect("command", {"on": "attached", "run": wait_up("extra0")}, "attached,extra veth up"),
    Expect(
        "command",
        {"on": "attached", "run": "ip -o -d link show mv-dm-parent", "output": "macvlan"},
        "attached,macvlan",
    ),
    Expect(
        "command",
        {"on": "attached", "run": "ip -o link show dm-moved", "output": "dm-moved"},
        "attached,moved interface",
    ),
    Expect(
        "command",
        {"on": "host", "run": "ip link show dm-moved", "exit": 1},
        "host,interface moved away",
    ),
    Expect("command", {"on": "host", "run": MOVED_DEVICE}, "host,device unit"),
    # A long name: nspawn shortens ve-<name>; networkd configures it by its full altname.
    Expect(
        "command",
        {"on": "host", "run": f"ip -o link show dev ve-{LONG}", "output": f"altname ve-{LONG}"},
        "host,long name altname",
    ),
    Expect(
        "command",
        {
            "on": "host",
            "run": f"networkctl status ve-{LONG}",
            "output": f"/etc/systemd/network/10-ve-{LONG}.network",
        },
        "host,long name network",
    ),
    Expect("address", {"node": LONG, "interface": "host0", "dhcp": True}),
    Expect("reachable", {"from": "host", "to": LONG}),
)

# --- runtime-beyond: the values tests/eval/cases.nix gives, written out again independently

SECRET = "s3cret-for-gamma"
SECRET_FILE = "/run/secrets/50%/gamma-db"
"""gamma's file credential `db-password` (the `%` proves the escaping of LoadCredential=)."""
APP_CONF = 'line one\n\tindented 50% of $HOME \\ "quoted" é\n '
"""gamma's text credential `app.conf`."""
GREETING = '50% of $HOME "quoted" \\ back'
"""What gamma's extra flag `--setenv=GREETING=...` must set, byte for byte."""
MEMORY_MAX = str(192 * 1024 * 1024)


def _credential(name: str, command: str) -> str:
    """*command* in a service of the container that loads system credential *name* (in a
    session of its own: without a controlling terminal, systemd-run cannot reset the console's
    terminal settings)."""
    return (
        f"setsid -w systemd-run --no-ask-password --pipe --wait --quiet "
        f"-p LoadCredential={name} sh -c {shlex.quote(command)} < /dev/null 2>&1"
    )


def _leader(name: str) -> str:
    return f"$(machinectl show {name} -p Leader --value)"


def _cgroup(name: str) -> str:
    return f"/sys/fs/cgroup/machine.slice/systemd-nspawn@{name}.service"


IMAGE_MOUNTS = "/run/nixos-nspawn/store"
"""Where the host mounts the closures' store images (one directory each)."""
STAND_IN = f"{STAND_IN_DIR}/closure"
"""Where the stand-in closure's sources are made before they are added to the VM's store."""


def _build(name: str) -> str:
    """A command that writes a derivation named ``built-in-<name>`` to /tmp/build.nix."""
    return (
        f"printf '%s' 'derivation {{ name = \"built-in-{name}\"; system = builtins.currentSystem; "
        'builder = "/bin/sh"; args = [ "-c" "echo built > $out" ]; }\' > /tmp/build.nix'
    )


def _payload_in_unit(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": "host",
            "run": f"cat /proc/{_leader(name)}/cgroup",
            "output": f"/machine.slice/systemd-nspawn@{name}.service/payload/",
        },
        f"host,{name} payload in the unit's cgroup",
    )


def _file_credential(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": name,
            "output": SECRET,
            "run": _credential("db-password", 'cat "$CREDENTIALS_DIRECTORY/db-password"'),
        },
        f"{name},file credential",
    )


def _seeded(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": name,
            # What the NixOS guest's postBootCommands do: seed the database, root the system.
            "run": f"{NIX}nix-store --load-db < /nix/.nixos-nspawn/registration && "
            "mkdir -p /nix/var/nix/gcroots && for path in /nix/store/*-nixos-nspawn-closure*; "
            'do ln -sfn "$path" /nix/var/nix/gcroots/"${path##*/}"; done && '
            f"{NIX}nix-store --check-validity "
            "/nix/store/*-nixos-nspawn-closure-pkg",
        },
        f"{name},closure seeded",
    )


def _nix_build(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": name,
            "output": f"-built-in-{name}",
            "run": f"{_build(name)} && {NIX}nix-build /tmp/build.nix --no-out-link",
        },
        f"{name},nix-build",
    )


def _built_in_upper_layer(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": "host",
            "run": f"root=/proc/{_leader(name)}/root && "
            f'ls "$root"/nix/.nixos-nspawn/upper | grep built-in-{name}',
        },
        f"host,{name}'s build in the upper layer",
    )


def _closure_images_mounted(count: int) -> Expect:
    return Expect(
        "command",
        {
            "on": "host",
            "run": 'test "$(findmnt -n -t erofs -o TARGET | '
            f"grep -c '^{IMAGE_MOUNTS}/')\" = {count}",
            "within": 30,
        },
        f"host,closure images mounted: {count}",
    )


def _only_the_closure(name: str) -> Expect:
    return Expect(
        "command",
        {
            "on": name,
            "run": 'test "$(ls /nix/store | wc -l)" = 3 && ! ls /nix/store | grep host-only',
        },
        f"{name},only the closure in /nix/store",
    )


BEYOND_GOOD: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "gamma"}),
    Expect("unit-active", {"container": "delta"}),
    Expect("unit-active", {"container": "epsilon"}),
    # credentials: read by a service in the container, root-only, never in a unit file
    _file_credential("gamma"),
    Expect(
        "command",
        {
            "on": "gamma",
            "output": hashlib.sha256(APP_CONF.encode()).hexdigest(),
            "run": _credential("app.conf", 'sha256sum "$CREDENTIALS_DIRECTORY/app.conf"'),
        },
        "gamma,text credential byte for byte",
    ),
    Expect(
        "command",
        {
            "on": "gamma",
            "run": "stat -c %a:%U /run/credentials/@system/db-password",
            "output": "400:root",
        },
        "gamma,system credential root-only",
    ),
    Expect(
        "command",
        {
            "on": "host",
            "output": "400:root",
            "run": "stat -c %a:%U /run/credentials/systemd-nspawn@gamma.service/db-password",
        },
        "host,loaded credential root-only",
    ),
    Expect(
        "command",
        {"on": "host", "run": f"! grep -rF {SECRET} /etc/systemd /run/systemd"},
        "host,secret in no unit file",
    ),
    # extraFlags: quoted for the Exec line, they reach systemd-nspawn as written
    Expect(
        "command",
        {
            "on": "gamma",
            "run": "tr '\\0' '\\n' < /proc/1/environ",
            "output": f"GREETING={GREETING}\n",
        },
        "gamma,extra flag",
    ),
    # serviceConfig: the limits of the unit are the container's
    Expect(
        "command",
        {"on": "host", "run": f"cat {_cgroup('gamma')}/memory.max", "output": MEMORY_MAX},
        "host,gamma memory.max",
    ),
    Expect(
        "command",
        {"on": "host", "run": f"cat {_cgroup('gamma')}/pids.max", "output": "256"},
        "host,gamma pids.max",
    ),
    _payload_in_unit("gamma"),
    # closure-only store: the closure, readable, read-only, one mount of its image on the host;
    # a host-only path absent
    _only_the_closure("delta"),
    Expect(
        "command",
        {
            "on": "delta",
            "run": 'test "$(findmnt -n -o FSTYPE /nix/store)" = erofs && '
            "test \"$(grep -c ' /nix/store ' /proc/self/mountinfo)\" = 1",
        },
        "delta,one erofs mount as /nix/store",
    ),
    _closure_images_mounted(2),
    Expect(
        "command",
        {"on": "host", "run": "ls /nix/store | grep host-only"},
        "host,host-only path on the host",
    ),
    Expect(
        "command",
        {
            "on": "delta",
            "run": "cat /nix/store/*-nixos-nspawn-closure-pkg/bin/tool",
            "output": "closure tool",
        },
        "delta,closure directory",
    ),
    Expect(
        "command",
        {
            "on": "delta",
            "run": "cat /nix/store/*-nixos-nspawn-closure.conf",
            "output": "closure conf",
        },
        "delta,closure file",
    ),
    Expect(
        "command",
        {
            "on": "delta",
            "run": "cat /nix/store/*-nixos-nspawn-closure-link/bin/tool",
            "output": "closure tool",
        },
        "delta,closure symlink",
    ),
    Expect(
        "command",
        {"on": "delta", "run": "touch /nix/store/new", "exit": 1},
        "delta,store read-only",
    ),
    Expect(
        "command",
        {"on": "delta", "run": "touch /nix/store/*-nixos-nspawn-closure-pkg/new", "exit": 1},
        "delta,closure path read-only",
    ),
    # nix = overlay: the closure seeded, a build into the upper layer only, gone on restart
    _seeded("epsilon"),
    Expect(
        "command",
        {
            "on": "epsilon",
            "exit": 1,
            "run": f"{NIX}nix-store --check-validity /nix/store/*-host-only",
        },
        "epsilon,host-only path unknown",
    ),
    _nix_build("epsilon"),
    Expect(
        "command",
        {"on": "host", "run": "! ls /nix/store | grep built-in-epsilon"},
        "host,build not in the host store",
    ),
    _built_in_upper_layer("epsilon"),
    Expect(
        "command",
        {"on": "epsilon", "run": f"{NIX}nix-store --gc && ! ls /nix/store | grep host-only"},
        "epsilon,garbage collection hides an unknown path",
    ),
    Expect(
        "command",
        {"on": "host", "run": "ls /nix/store | grep host-only"},
        "host,garbage collection left the host store alone",
    ),
    Expect(
        "command",
        {"on": "host", "run": "systemctl restart systemd-nspawn@epsilon"},
        "host,restart epsilon",
    ),
    Expect(
        "command",
        {
            "on": "epsilon",
            "run": "! ls /nix/store | grep built-in-epsilon && "
            "test ! -e /nix/var/nix/db && ls /nix/store | grep host-only",
        },
        "epsilon,nothing survives the restart",
    ),
    # nix = overlay over the closure's image: only the closure below, a build above it; the
    # image unmounted when its container stops
    _only_the_closure("zeta"),
    _seeded("zeta"),
    _nix_build("zeta"),
    _built_in_upper_layer("zeta"),
    Expect(
        "command",
        {"on": "host", "run": "! ls /nix/store | grep built-in-zeta"},
        "host,zeta's build not in the host store",
    ),
    Expect(
        "command",
        {"on": "host", "run": "systemctl stop systemd-nspawn@zeta"},
        "host,stop zeta",
    ),
    _closure_images_mounted(1),
)

WAVES: tuple[tuple[Expect, ...], ...] = (PAIR, FEATURE_CHECKS, BEYOND_GOOD)
"""The expectations on each wave of containers (see :class:`Plan`)."""

GOOD: tuple[Expect, ...] = PAIR + FEATURE_CHECKS + BEYOND_GOOD
"""Every expectation on the good containers."""


@dataclass(frozen=True)
class Step(Expect):
    """One ``session.step`` call; ``check`` is the step's action."""

    registry: ClassVar[Mapping[str, CheckSpec]] = STEPS


LIFECYCLE: tuple[Expect, ...] = numbered(
    (
        Step("stop", {"container": "beta"}),
        Expect(
            "command",
            {"on": "host", "run": "machinectl show beta", "exit": 1},
            "host,beta is gone after stop",
        ),
        Expect(
            "command",
            {"on": "host", "run": "systemctl is-active systemd-nspawn@beta.service", "exit": 3},
            "host,beta's unit is inactive after stop",
        ),
        Step("start", {"container": "beta"}),
        Expect("reachable", {"from": "host", "to": "beta"}),  # again, after the start
        Step("run", {"on": "alpha", "run": "touch /run/before-restart"}),
        Step("restart", {"container": "alpha"}),
        Step("wait-unit", {"on": "alpha", "unit": "multi-user.target"}),
        Expect(
            "command",
            {"on": "alpha", "run": "test ! -e /run/before-restart"},
            "alpha,a new instance after restart",
        ),
        Expect("reachable", {"from": "host", "to": "alpha"}),  # again, after the restart
        Step("run", {"on": "alpha", "run": WEB}),
        Step("wait-port", {"on": "alpha", "port": 80}),
        Expect(
            "command",
            {"on": "alpha", "run": "echo later > /run/www/index.html"},
            "alpha,page changed",
        ),
        Expect("http", {"from": "host", "to": "alpha", "body": "later"}),
    ),
    before=GOOD,
)
"""Steps between expectations (``[[step]]`` in scenarios): stop, start and restart through
machinectl, setup commands and waits, each followed by expectations that see the new state."""

FAILED_STEP = Step("run", {"on": "host", "run": "echo no such setup >&2; exit 3"})
AFTER_FAILED_STEP = Expect("unit-active", {"container": "alpha"}, "alpha,after a failed step")
"""A negative control of steps: the step fails, so the expectation after it must fail with the
step's message and evidence, although it would hold. (It runs in a session of its own, so the
registry's id, ``unit-active[alpha]``, would be unique there; the run's record holds every
session's results, where it is not: hence a label.)"""


@dataclass(frozen=True)
class Broken:
    """A negative control: alpha's settings with one thing broken, and the check that must
    notice it. ``peers`` are other broken containers in the same topology."""

    name: str
    what: str
    expect: Expect
    message: str
    """A substring the failure message must contain: it names the problem."""
    peers: tuple[str, ...] = ()
    base: str = "alpha"
    """The good container whose settings are broken."""


NEGATIVE: tuple[Broken, ...] = (
    Broken(
        "nouserns",
        "PrivateUsers=no",
        Expect("userns", {"container": "nouserns"}),
        "container root is host root",
    ),
    Broken(
        "persist",
        "Ephemeral=no",
        Expect("ephemeral", {"container": "persist"}),
        "marker survived the restart",
    ),
    Broken(
        "nonet",
        "VirtualEthernet=no",
        Expect("reachable", {"from": "host", "to": "nonet"}),
        "has no ipv4 address on host0",
    ),
    Broken(
        "nodhcp",
        "host network without DHCPServer",
        Expect("address", {"node": "nodhcp", "interface": "host0", "dhcp": True}),
        "expected a DHCP lease",
    ),
    Broken(
        "rwstore",
        "store bound read-write (Bind=/usr)",
        Expect("store-readonly", {"container": "rwstore"}),
        "mounted read-write",
    ),
    Broken(
        "overlap-a",
        "PrivateUsers=268435456:65536, the same range as overlap-b",
        Expect("userns", {"container": "overlap-a"}),
        "ranges overlap",
        peers=("overlap-b",),
    ),
    Broken(
        "nodevice",
        "/dev/fuse bound in without DeviceAllow=",
        Expect(
            "command",
            {"on": "nodevice", "run": FUSE_OPEN, "output": "opened /dev/fuse"},
            "nodevice,fuse",
        ),
        "lacks 'opened /dev/fuse'",
    ),
    Broken(
        "legacy",
        "no SYSTEMD_NSPAWN_UNIFIED_HIERARCHY in the unit's environment",
        _unified_cgroup("legacy"),
        "lacks 'cgroup2fs'",
    ),
    Broken(
        "latelink",
        "no nixos-nspawn-host0.service in the container",
        _host0_first("latelink"),
        "exit status 1",
    ),
    Broken(
        "nokeep",
        "gamma's command line without --keep-unit",
        _payload_in_unit("nokeep"),
        "lacks '/machine.slice/systemd-nspawn@nokeep.service/payload/'",
        base="gamma",
    ),
    Broken(
        "nocred",
        "gamma's credentials loaded, but not passed to systemd-nspawn",
        _file_credential("nocred"),
        f"lacks {SECRET!r}",
        base="gamma",
    ),
    Broken(
        "leaky",
        "delta with the host's whole store instead of its closure",
        _only_the_closure("leaky"),
        "exit status 1, expected 0",
        base="delta",
    ),
)

FIXED_RANGE = "268435456:65536"


def _break(
    name: str,
    settings: dict[str, Any],
    networks: dict[str, Any],
    service: dict[str, Any],
    environment: dict[str, Any],
    own_services: dict[str, Any],
) -> None:
    """Apply the broken setting of negative control ``name`` (in place)."""
    exec_, files, network = (
        settings["execConfig"],
        settings["filesConfig"],
        settings["networkConfig"],
    )
    match name:
        case "nouserns":
            exec_["PrivateUsers"] = False
        case "persist":
            exec_["Ephemeral"] = False
        case "nonet":
            network["VirtualEthernet"] = False
        case "nodhcp":
            [network] = networks.values()
            network["networkConfig"]["DHCPServer"] = False
        case "rwstore":
            files["Bind"], files["BindReadOnly"] = ["/usr"], []
        case "overlap-a" | "overlap-b":
            exec_["PrivateUsers"] = FIXED_RANGE
        case "nodevice":
            files["Bind"] = ["/dev/fuse"]
        case "legacy":
            del environment["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"]
        case "latelink":
            del own_services["nixos-nspawn-host0"]
        case "nokeep":
            service["ExecStart"] = [
                line.replace(" --keep-unit", "") for line in service["ExecStart"]
            ]
        case "nocred":
            del service["ExecStart"]
        case "leaky":
            files["BindReadOnly"] = [
                "/nix/store" if spec.endswith(":/nix/store") else spec
                for spec in files["BindReadOnly"]
            ]
        case _:
            raise KeyError(name)


def _variant(case: dict[str, Any], base: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings of ``base``, Debian-translated, renamed to ``name`` and without its binds
    and machine ID: the unbroken twin of a negative control, and its host-side networks."""
    settings = copy.deepcopy(translate_nspawn(case["nspawn"][base]))
    settings["filesConfig"]["Bind"] = []
    settings["execConfig"]["MachineID"] = hashlib.md5(name.encode()).hexdigest()
    networks = {
        unit.replace(f"ve-{base}", f"ve-{name}"): copy.deepcopy(network)
        for unit, network in case["hostNetworks"].items()
        if network.get("matchConfig", {}).get("Name") == f"ve-{base}"
    }
    for network in networks.values():
        network["matchConfig"]["Name"] = f"ve-{name}"
    return settings, networks


@dataclass(frozen=True)
class Plan:
    """Everything installed in the VM, and the topologies the sessions see."""

    case: dict[str, Any]
    good: Topology
    negative: dict[str, Topology]
    """Per negative control: the topology the scenario *declared* (the unbroken twin)."""
    waves: tuple[tuple[str, ...], ...]
    """The containers started together, one wave per exported case (runtime-pair,
    runtime-features, runtime-beyond), each with the negative controls broken from it; a wave
    starts once the expectations on the one before (:data:`WAVES`) have been checked. Twenty
    containers booting at once on two emulated CPUs can outlast the units' five-minute start
    timeout."""


def merge_cases(*cases: dict[str, Any]) -> dict[str, Any]:
    """Several exported cases as one: their containers, networks and drop-ins side by side, their
    mounts one after another. A unit (or sysctl, or mount point) that two cases define
    differently is an error."""
    merged: dict[str, Any] = {
        "case": "+".join(c["case"] for c in cases),
        "description": "; ".join(c["description"] for c in cases),
        "mounts": [],
    }
    for key in sorted({k for c in cases for k in c} - set(merged)):
        merged[key] = {}
        for c in cases:
            _merge_into(merged[key], c.get(key, {}), key)
    points: dict[str, Any] = {}
    for c in cases:
        _merge_into(points, {m["where"]: m for m in c.get("mounts", [])}, "mounts")
    merged["mounts"] = copy.deepcopy(list(points.values()))
    return merged


def _merge_into(merged: dict[str, Any], theirs: dict[str, Any], key: str) -> None:
    clash = {name for name in set(merged) & set(theirs) if merged[name] != theirs[name]}
    if clash:
        raise ValueError(f"{key}: {sorted(clash)} in more than one case")
    merged.update(copy.deepcopy(theirs))


Breakage = Callable[
    [dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]], None
]
"""Changes a twin's settings, host networks, unit drop-in, environment and own services."""


def add_twin(
    case: dict[str, Any],
    reference: dict[str, Any],
    base: str,
    name: str,
    change: Breakage | None = None,
) -> dict[str, Any]:
    """Add container ``name`` to ``case``: ``base``'s settings (see :func:`_variant`) with
    ``change`` applied; returns the settings before the change (the twin a scenario declares)."""
    settings, networks = _variant(reference, base, name)
    declared = copy.deepcopy(settings)
    service = copy.deepcopy(reference["serviceOverrides"][base])
    environment = copy.deepcopy(reference["serviceEnvironment"][base])
    own_services = copy.deepcopy(reference["containerServices"][base])
    if change is not None:
        change(settings, networks, service, environment, own_services)
    case["nspawn"][name] = settings
    case["hostNetworks"].update(networks)
    case["containerNetworks"][name] = copy.deepcopy(reference["containerNetworks"][base])
    case["serviceOverrides"][name] = service
    case["serviceEnvironment"][name] = environment
    case["containerServices"][name] = own_services
    return declared


def make_plan(references: list[dict[str, Any]], skeleton: tuple[str, ...]) -> Plan:
    """The plan for these exported cases, in this order of waves."""
    reference = merge_cases(*references)
    case = copy.deepcopy(reference)
    twins: dict[str, dict[str, Any]] = {}
    bases = {b.name: b.base for b in NEGATIVE} | {p: b.base for b in NEGATIVE for p in b.peers}
    for name, base in bases.items():
        twins[name] = add_twin(case, reference, base, name, functools.partial(_break, name))
    good = topology_of(reference["nspawn"], skeleton)
    negative = {
        b.name: topology_of({n: twins[n] for n in (b.name, *b.peers)}, skeleton) for b in NEGATIVE
    }
    waves = tuple(
        (*r["nspawn"], *(name for name, base in bases.items() if base in r["nspawn"]))
        for r in references
    )
    return Plan(case, good, negative, waves)


def prepare_stand_ins(machine: ConsoleMachine) -> None:
    """What a NixOS host would have for runtime-beyond: gamma's credential file (root-only), the
    closure of delta's, epsilon's and zeta's system, and a store path outside it."""
    secret_dir = shlex.quote(str(Path(SECRET_FILE).parent))
    machine.succeed(
        f"mkdir -p {secret_dir} && chmod 0700 {secret_dir} && "
        f"printf %s {SECRET} > {shlex.quote(SECRET_FILE)} && chmod 0400 {shlex.quote(SECRET_FILE)}"
    )
    machine.succeed(
        f"mkdir -p {STAND_IN}/nixos-nspawn-closure-pkg/bin && "
        f"echo closure tool > {STAND_IN}/nixos-nspawn-closure-pkg/bin/tool && "
        f"echo closure conf > {STAND_IN}/nixos-nspawn-closure.conf && "
        f"echo host only > {STAND_IN}/nixos-nspawn-host-only"
    )
    package = add_to_store(machine, f"{STAND_IN}/nixos-nspawn-closure-pkg")
    config = add_to_store(machine, f"{STAND_IN}/nixos-nspawn-closure.conf")
    machine.succeed(f"ln -sfn {package} {STAND_IN}/nixos-nspawn-closure-link")
    link = add_to_store(machine, f"{STAND_IN}/nixos-nspawn-closure-link")
    add_to_store(machine, f"{STAND_IN}/nixos-nspawn-host-only")
    install_stand_in_closure(machine, (package, config, link))


@dataclass
class RunRecord:
    """What the VM run leaves for the tests (JSON-serialisable, shared between workers)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, bool] = field(default_factory=dict)
    negative_finish: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""


def run_vm(out_dir: Path, progress: Callable[[str], None]) -> RunRecord:
    """Boot the VM once, install and start everything, run all sessions."""
    record = RunRecord()
    started = time.monotonic()

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        record.timings[name] = round(now - since, 1)
        progress(f"[runtime] {name}: {now - since:.1f}s")
        return now

    image = ensure_image(progress=progress)
    mark = lap("image", started)
    references = [json.loads(path.read_text()) for path in (REFERENCE, FEATURES, BEYOND)]
    with ConsoleMachine(VmConfig(image, log_dir=out_dir / "vm")) as machine:
        mark = lap("boot", mark)
        skeleton = template_entries(machine)
        plan = make_plan(references, skeleton)
        import plan_faults  # imports this module: not at the top

        plan_faults.add_containers(plan.case, merge_cases(*references))
        prepare_stand_ins(machine)
        machine.succeed(LATE_BACKING)
        install_files(machine, [LATE_MOUNT])
        install_case(machine, plan.case)
        mark = lap("install", mark)
        good = Session(machine, plan.good, out_dir, stdout=_Lines(progress))
        for wave, expects in zip(plan.waves, WAVES, strict=True):
            units = " ".join(f"systemd-nspawn@{n}.service" for n in wave)
            machine.succeed(f"systemctl start --no-block {units}")
            for expect in expects:
                result = good.check(expect.id, expect.check, expect.params)
                record.results[expect.id] = asdict(result)
        mark = lap("good checks", mark)
        for entry in LIFECYCLE:
            if isinstance(entry, Step):
                record.steps[entry.id] = good.step(entry.id, entry.check, entry.params)
            else:
                record.results[entry.id] = asdict(good.check(entry.id, entry.check, entry.params))
        failing = Session(machine, plan.good, out_dir, stdout=_Lines(progress))
        record.steps[FAILED_STEP.id] = failing.step(
            FAILED_STEP.id, FAILED_STEP.check, FAILED_STEP.params
        )
        record.results[AFTER_FAILED_STEP.id] = asdict(
            failing.check(AFTER_FAILED_STEP.id, AFTER_FAILED_STEP.check, AFTER_FAILED_STEP.params)
        )
        mark = lap("steps", mark)
        plan_faults.start(machine)  # they boot during the negative checks
        for broken in NEGATIVE:
            session = Session(
                machine,
                plan.negative[broken.name],
                out_dir,
                timeout=NEGATIVE_TIMEOUT,
                stdout=_Lines(progress),
            )
            result = session.check(broken.expect.id, broken.expect.check, broken.expect.params)
            record.results[broken.expect.id] = asdict(result)
            try:
                session.finish()
            except assertion_failures() as err:
                record.negative_finish += f"{err}\n"
        mark = lap("negative checks", mark)
        faults = plan_faults.topology(plan.case, skeleton)
        plan_faults.run(machine, faults, out_dir, record, _Lines(progress))
        mark = lap("faults", mark)
        from plan_lifecycle import run as run_lifecycle  # it imports this module

        run_lifecycle(machine, out_dir, _Lines(progress), record.results, record.steps)
        lap("lifecycle", mark)
    record.timings["total"] = round(time.monotonic() - started, 1)
    return record


class _Lines:
    """A text stream that forwards the sessions' result lines to the progress callback."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.progress = progress

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.progress(line if len(line) < 300 else line[:300] + " ...")
        return len(text)

    def flush(self) -> None:
        pass
