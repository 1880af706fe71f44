"""The runtime tier's plan: what is installed in the one VM, and which checks run against it.

The module's exported ``runtime-pair`` settings (alpha: own veth and two writable binds, one
with ``:`` and ``\\`` in its paths; beta: zone ``lab``) and ``runtime-features`` settings (what
users of classic containers rely on: ``features`` with a forwarded port, a tmpfs, an extra
capability, /dev/fuse, TUN and a bind on a late mount; ``attached`` with an extra veth, a MACVLAN
and a moved interface; ``bridged`` on the host's bridge ``br0``; a container with a 28-character
name) are installed next to broken variants of alpha, started side by side in two waves (see
:class:`Plan`), and every expectation runs through ``harness.checks.Session`` -- the code the
generated testScripts call.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.checks import Session, Topology
from harness.checks.errors import assertion_failures
from harness.vm.console import ConsoleMachine, VmConfig
from harness.vm.image import ensure_image
from harness.vm.install import install_case, install_files, template_entries, topology_of
from harness.vm.units import UnitFile, translate_nspawn

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "runtime-pair.json"
FEATURES = ROOT / "tests" / "reference" / "runtime-features.json"
NEGATIVE_TIMEOUT = 30
"""Seconds a negative control's check waits for what will never come (the good containers are
up by then, so waiting longer would only prove the same thing later)."""


@dataclass(frozen=True)
class Expect:
    """One ``session.check`` call."""

    check: str
    params: dict[str, object]
    label: str

    @property
    def id(self) -> str:
        return f"{self.check}[{self.label}]"


WEB = "mkdir -p /run/www && echo hello-from-alpha > /run/www/index.html && " \
      "systemd-run --unit=www busybox httpd -f -p 80 -h /run/www"

# alpha's second bind has `:` and `\` in both paths (the module escapes them for Bind=): a file
# the host writes into /srv/odd:dir\x must be what alpha reads at /var/lib/odd:dir\x.
ODD_HOST, ODD_INSIDE = shlex.quote("/srv/odd:dir\\x/from-host"), shlex.quote(
    "/var/lib/odd:dir\\x/from-host")

PAIR: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "alpha"}, "alpha"),
    Expect("unit-active", {"container": "beta"}, "beta"),
    Expect("address", {"node": "alpha", "interface": "host0", "dhcp": True}, "alpha:host0,dhcp"),
    Expect("address", {"node": "beta", "interface": "host0", "dhcp": True}, "beta:host0,dhcp"),
    Expect("address", {"node": "host", "interface": "ve-alpha", "prefix": "fe80::/10"},
           "host:ve-alpha,fe80::/10"),
    Expect("reachable", {"from": "host", "to": "alpha"}, "host->alpha,ipv4"),
    Expect("reachable", {"from": "alpha", "to": "host"}, "alpha->host,ipv4"),
    Expect("reachable", {"from": "host", "to": "beta"}, "host->beta,ipv4"),
    Expect("reachable", {"from": "beta", "to": "host"}, "beta->host,ipv4"),
    Expect("reachable", {"from": "host", "to": "alpha", "family": "link-local"},
           "host->alpha,link-local"),
    Expect("reachable", {"from": "host", "to": "alpha", "by": "name"}, "host->alpha,name"),
    Expect("command", {"on": "alpha", "run": WEB}, "alpha,web server"),
    Expect("http", {"from": "host", "to": "alpha", "body": "hello-from-alpha"}, "host->alpha"),
    Expect("command", {"on": "host", "run": f"echo odd-bind > {ODD_HOST}"}, "host,odd bind"),
    Expect("command", {"on": "alpha", "run": f"cat {ODD_INSIDE}", "output": "odd-bind"},
           "alpha,odd bind"),
    Expect("tcp", {"from": "host", "to": "alpha", "port": 80}, "host->alpha:80"),
    Expect("store-readonly", {"container": "alpha"}, "alpha"),
    Expect("store-readonly", {"container": "beta"}, "beta"),
    Expect("no-nix-daemon", {"container": "alpha"}, "alpha"),
    Expect("no-nix-daemon", {"container": "beta"}, "beta"),
    Expect("command", {"on": "host", "run": "machinectl list --no-legend", "output": "beta"},
           "host,machinectl"),
    Expect("ephemeral", {"container": "alpha"}, "alpha"),
    Expect("ephemeral", {"container": "beta"}, "beta"),
    Expect("userns", {"container": "alpha"}, "alpha"),
    Expect("userns", {"container": "beta"}, "beta"),
)

# --- runtime-features ---------------------------------------------------------------------

LONG = "a-container-with-a-long-name"
HOST_ADDRESS = "10.77.0.1"
"""An address of the host that is not loopback: br0's, from the case's own host networks."""

WEB_FEATURES = WEB.replace("alpha", "features")
FORWARDED = (f"for i in $(seq 60); do curl -sf --max-time 3 http://{HOST_ADDRESS}:8080/ && exit 0; "
             "sleep 1; done; exit 1")


def cap_ipc_lock(container: str) -> str:
    """Prints ``CAP_IPC_LOCK=1`` if the container's init has CAP_IPC_LOCK (bit 14) effective."""
    return (f"pid=$(machinectl show {container} -p Leader --value) && "
            "cap=$(awk '/^CapEff:/ {print $2}' /proc/$pid/status) && "
            "echo CAP_IPC_LOCK=$(( (0x$cap >> 14) & 1 ))")


IN_UNIT = "systemd-run --wait --pipe --quiet </dev/null "
"""Runs a command as a unit of the container's systemd, so in the container's cgroup, where the
unit's device policy (DeviceAllow=) applies; a command entered with nsenter stays in the host's
cgroup and would open any device node it can see. (Its stdin is not the console's: `--pipe`
would hand the command channel to the unit.)"""
FUSE_OPEN = IN_UNIT + "sh -c 'exec 3<>/dev/fuse && echo opened /dev/fuse'"


def wait_up(interface: str) -> str:
    """Succeeds once ``interface`` is up with a carrier (networkd brings it up)."""
    return (f"for i in $(seq 60); do ip -o link show {interface} | grep -q LOWER_UP && exit 0; "
            f"sleep 1; done; ip -o link show {interface}; exit 1")


# The unit wants and is ordered after the device of the interface it takes, by the name
# systemd-escape gives it. Once the device appears, systemd merges that name into the device's
# own unit (sys-devices-virtual-net-...), and the dependency lists show the merged unit: any of
# the unit's names counts.
MOVED_DEVICE = (
    "unit=$(systemd-escape --path --suffix=device /sys/subsystem/net/devices/dm-moved) && "
    "names=$(systemctl show -p Names --value \"$unit\" | tr ' ' '\\n') && "
    "printf 'names: %s\\n' $names && for dep in Wants After; do "
    "systemctl show -p $dep --value systemd-nspawn@attached | tr ' ' '\\n' | "
    "grep -xF \"$names\" || exit 1; done"
)

# A file system that is not mounted at boot (as `noauto` in fstab): the bind source of
# features' /var/lib/late is on it, so only the unit's RequiresMountsFor= mounts it in time.
LATE_MOUNT = UnitFile(
    "/etc/systemd/system/srv-late\\x20mount.mount",
    "[Mount]\nWhat=/srv/late-backing\nWhere=/srv/late mount\nType=none\nOptions=bind\n",
)
LATE_BACKING = ("mkdir -p /srv/late-backing/data && "
                "echo from-the-late-mount > /srv/late-backing/data/marker")

FEATURE_CHECKS: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "features"}, "features"),
    Expect("unit-active", {"container": "attached"}, "attached"),
    Expect("unit-active", {"container": "bridged"}, "bridged"),
    Expect("unit-active", {"container": LONG}, LONG),
    # forwardPorts: from the host's own non-loopback address; never from localhost.
    Expect("command", {"on": "features", "run": WEB_FEATURES}, "features,web server"),
    Expect("command", {"on": "host", "run": FORWARDED, "output": "hello-from-features"},
           "host,forwarded port"),
    Expect("command", {"on": "host", "run": "curl -s --max-time 5 http://127.0.0.1:8080/",
                       "exit": 7}, "host,localhost not forwarded"),
    # tmpfs, capabilities, devices, enableTun (alpha has none of them).
    Expect("command", {"on": "features", "run": "stat -f -c %T /var/tmp", "output": "tmpfs"},
           "features,tmpfs"),
    Expect("command", {"on": "alpha", "run": "test \"$(stat -f -c %T /var/tmp)\" != tmpfs"},
           "alpha,no tmpfs"),
    Expect("command", {"on": "host", "run": cap_ipc_lock("features"), "output": "CAP_IPC_LOCK=1"},
           "host,features capability"),
    Expect("command", {"on": "host", "run": cap_ipc_lock("alpha"), "output": "CAP_IPC_LOCK=0"},
           "host,alpha capability"),
    Expect("command", {"on": "features", "run": FUSE_OPEN, "output": "opened /dev/fuse"},
           "features,fuse"),
    Expect("command", {"on": "alpha", "run": "test -e /dev/fuse", "exit": 1}, "alpha,no fuse"),
    Expect("command", {"on": "features", "run": IN_UNIT + "ip tuntap add dev tun9 mode tun && "
                       "ip -o link show tun9", "output": "tun9"}, "features,tun"),
    # Binds wait for their source: the late mount is mounted before the container binds it.
    Expect("command", {"on": "features", "run": "cat /var/lib/late/marker",
                       "output": "from-the-late-mount"}, "features,late bind"),
    Expect("command", {"on": "host", "run": "systemctl show -p RequiresMountsFor --value "
                       "systemd-nspawn@features", "output": "/srv/late mount/data"},
           "host,mounts for a space"),
    Expect("command", {"on": "host", "run": "systemctl show -p RequiresMountsFor --value "
                       "systemd-nspawn@features | tr ' ' '\\n' | grep -x /srv/50%"},
           "host,mounts for a percent"),
    # network.veth.bridge: a port of the host's bridge, DHCP from the bridge's network.
    Expect("command", {"on": "host", "run": "ip -o link show master br0", "output": "vb-bridged"},
           "host,bridge member"),
    Expect("address", {"node": "bridged", "interface": "host0", "dhcp": True},
           "bridged:host0,dhcp"),
    Expect("reachable", {"from": "host", "to": "bridged"}, "host->bridged,ipv4"),
    # extraVeths, macvlans, interfaces.
    Expect("command", {"on": "host", "run": wait_up("vx-attached")}, "host,extra veth up"),
    Expect("command", {"on": "attached", "run": wait_up("extra0")}, "attached,extra veth up"),
    Expect("command", {"on": "attached", "run": "ip -o -d link show mv-dm-parent",
                       "output": "macvlan"}, "attached,macvlan"),
    Expect("command", {"on": "attached", "run": "ip -o link show dm-moved", "output": "dm-moved"},
           "attached,moved interface"),
    Expect("command", {"on": "host", "run": "ip link show dm-moved", "exit": 1},
           "host,interface moved away"),
    Expect("command", {"on": "host", "run": MOVED_DEVICE}, "host,device unit"),
    # A long name: nspawn shortens ve-<name>; networkd configures it by its full altname.
    Expect("command", {"on": "host", "run": f"ip -o link show dev ve-{LONG}",
                       "output": f"altname ve-{LONG}"}, "host,long name altname"),
    Expect("command", {"on": "host", "run": f"networkctl status ve-{LONG}",
                       "output": f"/etc/systemd/network/10-ve-{LONG}.network"},
           "host,long name network"),
    Expect("address", {"node": LONG, "interface": "host0", "dhcp": True}, f"{LONG}:host0,dhcp"),
    Expect("reachable", {"from": "host", "to": LONG}, f"host->{LONG},ipv4"),
)

GOOD: tuple[Expect, ...] = PAIR + FEATURE_CHECKS
"""Every expectation on the good containers: PAIR once the first wave is up, FEATURE_CHECKS
once the second is (see :class:`Plan`)."""

@dataclass(frozen=True)
class Step(Expect):
    """One ``session.step`` call; ``check`` is the step's action."""


LIFECYCLE: tuple[Step | Expect, ...] = (
    Step("stop", {"container": "beta"}, "beta"),
    Expect("command", {"on": "host", "run": "machinectl show beta", "exit": 1},
           "host,beta is gone after stop"),
    Expect("command", {"on": "host", "run": "systemctl is-active systemd-nspawn@beta.service",
                       "exit": 3}, "host,beta's unit is inactive after stop"),
    Step("start", {"container": "beta"}, "beta"),
    Expect("reachable", {"from": "host", "to": "beta"}, "host->beta,ipv4,after start"),
    Step("run", {"on": "alpha", "run": "touch /run/before-restart"}, "alpha,marker"),
    Step("restart", {"container": "alpha"}, "alpha"),
    Step("wait-unit", {"on": "alpha", "unit": "multi-user.target"}, "alpha,multi-user"),
    Expect("command", {"on": "alpha", "run": "test ! -e /run/before-restart"},
           "alpha,a new instance after restart"),
    Expect("reachable", {"from": "host", "to": "alpha"}, "host->alpha,ipv4,after restart"),
    Step("run", {"on": "alpha", "run": WEB}, "alpha,web server again"),
    Step("wait-port", {"on": "alpha", "port": 80}, "alpha,80"),
    Expect("command", {"on": "alpha", "run": "echo later > /run/www/index.html"},
           "alpha,page changed"),
    Expect("http", {"from": "host", "to": "alpha", "body": "later"}, "host->alpha,after restart"),
)
"""Steps between expectations (``[[step]]`` in scenarios): stop, start and restart through
machinectl, setup commands and waits, each followed by expectations that see the new state."""

FAILED_STEP = Step("run", {"on": "host", "run": "echo no such setup >&2; exit 3"},
                   "host,failing setup")
AFTER_FAILED_STEP = Expect("unit-active", {"container": "alpha"}, "alpha,after a failed step")
"""A negative control of steps: the step fails, so the expectation after it must fail with the
step's message and evidence, although it would hold."""


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


NEGATIVE: tuple[Broken, ...] = (
    Broken("nouserns", "PrivateUsers=no",
           Expect("userns", {"container": "nouserns"}, "nouserns"),
           "container root is host root"),
    Broken("persist", "Ephemeral=no",
           Expect("ephemeral", {"container": "persist"}, "persist"),
           "marker survived the restart"),
    Broken("nonet", "VirtualEthernet=no",
           Expect("reachable", {"from": "host", "to": "nonet"}, "host->nonet,ipv4"),
           "has no ipv4 address on host0"),
    Broken("nodhcp", "host network without DHCPServer",
           Expect("address", {"node": "nodhcp", "interface": "host0", "dhcp": True},
                  "nodhcp:host0,dhcp"),
           "expected a DHCP lease"),
    Broken("rwstore", "store bound read-write (Bind=/usr)",
           Expect("store-readonly", {"container": "rwstore"}, "rwstore"),
           "mounted read-write"),
    Broken("overlap-a", "PrivateUsers=268435456:65536, the same range as overlap-b",
           Expect("userns", {"container": "overlap-a"}, "overlap-a"),
           "ranges overlap", peers=("overlap-b",)),
    Broken("nodevice", "/dev/fuse bound in without DeviceAllow=",
           Expect("command", {"on": "nodevice", "run": FUSE_OPEN, "output": "opened /dev/fuse"},
                  "nodevice,fuse"),
           "lacks 'opened /dev/fuse'"),
)

FIXED_RANGE = "268435456:65536"


def _break(name: str, settings: dict[str, Any], networks: dict[str, Any]) -> None:
    """Apply the broken setting of negative control ``name`` (in place)."""
    exec_, files, network = (settings["execConfig"], settings["filesConfig"],
                             settings["networkConfig"])
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
        case _:
            raise KeyError(name)


def _variant(case: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alpha's settings, Debian-translated, renamed to ``name`` and without alpha's bind and
    machine ID: the unbroken twin of a negative control, and its host-side networks."""
    settings = copy.deepcopy(translate_nspawn(case["nspawn"]["alpha"]))
    settings["filesConfig"]["Bind"] = []
    settings["execConfig"]["MachineID"] = hashlib.md5(name.encode()).hexdigest()
    [(unit, network)] = [
        (unit, copy.deepcopy(network)) for unit, network in case["hostNetworks"].items()
        if network.get("matchConfig", {}).get("Name") == "ve-alpha"
    ]
    network["matchConfig"]["Name"] = f"ve-{name}"
    return settings, {unit.replace("ve-alpha", f"ve-{name}"): network}


@dataclass(frozen=True)
class Plan:
    """Everything installed in the VM, and the topologies the sessions see."""

    case: dict[str, Any]
    good: Topology
    negative: dict[str, Topology]
    """Per negative control: the topology the scenario *declared* (the unbroken twin)."""
    waves: tuple[tuple[str, ...], tuple[str, ...]]
    """The containers started together: runtime-pair's and the negative controls first, then,
    once PAIR has been checked, runtime-features'. Fourteen NixOS-less containers booting at
    once on the two emulated CPUs can outlast the units' five-minute start timeout."""


def merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two exported cases as one (the first's name and description): their containers,
    networks and drop-ins side by side. A unit both define is an error."""
    case = copy.deepcopy(first)
    for key, value in second.items():
        if isinstance(value, dict):
            clash = sorted(set(case.setdefault(key, {})) & set(value))
            if clash:
                raise ValueError(f"both cases define {key} {clash}")
            case[key].update(copy.deepcopy(value))
    return case


def make_plan(reference: dict[str, Any], features: dict[str, Any],
              skeleton: tuple[str, ...]) -> Plan:
    case = merged(reference, features)
    twins: dict[str, dict[str, Any]] = {}
    names = [b.name for b in NEGATIVE] + [p for b in NEGATIVE for p in b.peers]
    for name in names:
        settings, networks = _variant(reference, name)
        twins[name] = copy.deepcopy(settings)
        _break(name, settings, networks)
        case["nspawn"][name] = settings
        case["hostNetworks"].update(networks)
        case["containerNetworks"][name] = copy.deepcopy(reference["containerNetworks"]["alpha"])
        case["serviceOverrides"][name] = copy.deepcopy(reference["serviceOverrides"]["alpha"])
    good = topology_of(reference["nspawn"] | features["nspawn"], skeleton)
    negative = {
        b.name: topology_of({n: twins[n] for n in (b.name, *b.peers)}, skeleton)
        for b in NEGATIVE
    }
    return Plan(case, good, negative, ((*reference["nspawn"], *names), tuple(features["nspawn"])))


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
    reference = json.loads(REFERENCE.read_text())
    features = json.loads(FEATURES.read_text())
    with ConsoleMachine(VmConfig(image, log_dir=out_dir / "vm")) as machine:
        mark = lap("boot", mark)
        plan = make_plan(reference, features, template_entries(machine))
        machine.succeed(LATE_BACKING)
        install_files(machine, [LATE_MOUNT])
        install_case(machine, plan.case)
        mark = lap("install", mark)
        good = Session(machine, plan.good, out_dir, stdout=_Lines(progress))
        for wave, expects in zip(plan.waves, (PAIR, FEATURE_CHECKS), strict=True):
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
            FAILED_STEP.id, FAILED_STEP.check, FAILED_STEP.params)
        record.results[AFTER_FAILED_STEP.id] = asdict(failing.check(
            AFTER_FAILED_STEP.id, AFTER_FAILED_STEP.check, AFTER_FAILED_STEP.params))
        mark = lap("steps", mark)
        for broken in NEGATIVE:
            session = Session(machine, plan.negative[broken.name], out_dir,
                              timeout=NEGATIVE_TIMEOUT, stdout=_Lines(progress))
            result = session.check(broken.expect.id, broken.expect.check, broken.expect.params)
            record.results[broken.expect.id] = asdict(result)
            try:
                session.finish()
            except assertion_failures() as err:
                record.negative_finish += f"{err}\n"
        lap("negative checks", mark)
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
