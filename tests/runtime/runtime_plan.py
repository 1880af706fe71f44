"""The runtime tier's plan: what is installed in the one VM, and which checks run against it.

The module's exported ``runtime-pair`` settings (alpha: own veth and two writable binds, one
with ``:`` and ``\\`` in its paths; beta: zone ``lab``) and ``runtime-beyond`` settings (gamma:
credentials, limits and an extra flag; delta: the closure-only store; epsilon: Nix over an overlay
store) are installed next to broken variants of alpha, gamma and delta, all are started side by
side, and every expectation runs through ``harness.checks.Session`` -- the code the generated
testScripts call.
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
from harness.vm.install import (
    NIX,
    add_to_store,
    install_case,
    install_stand_in_closure,
    template_entries,
    topology_of,
)
from harness.vm.units import STAND_IN_DIR, translate_nspawn

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "runtime-pair.json"
BEYOND = ROOT / "tests" / "reference" / "runtime-beyond.json"
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

GOOD: tuple[Expect, ...] = (
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

# -- runtime-beyond: the values tests/eval/cases.nix gives, written out again independently ----

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
    return (f"setsid -w systemd-run --no-ask-password --pipe --wait --quiet "
            f"-p LoadCredential={name} sh -c {shlex.quote(command)} < /dev/null 2>&1")


def _leader(name: str) -> str:
    return f"$(machinectl show {name} -p Leader --value)"


def _cgroup(name: str) -> str:
    return f"/sys/fs/cgroup/machine.slice/systemd-nspawn@{name}.service"


STAND_IN = f"{STAND_IN_DIR}/closure"
"""Where the stand-in closure's sources are made before they are added to the VM's store."""
BUILD = ("printf '%s' 'derivation { name = \"built-in-epsilon\"; system = builtins.currentSystem; "
         "builder = \"/bin/sh\"; args = [ \"-c\" \"echo built > $out\" ]; }' > /root/build.nix")
LEAKY_VIEW = f"{STAND_IN_DIR}/leaky.host-store"
"""What the `leaky` control appends to its .nspawn file instead of the closure's store view: the
host's whole store, as `nixStore = "host"` binds it."""


def _payload_in_unit(name: str) -> Expect:
    return Expect("command", {"on": "host", "run": f"cat /proc/{_leader(name)}/cgroup",
                              "output": f"/machine.slice/systemd-nspawn@{name}.service/payload/"},
                  f"host,{name} payload in the unit's cgroup")


def _file_credential(name: str) -> Expect:
    return Expect("command", {"on": name, "output": SECRET,
                              "run": _credential("db-password",
                                                 'cat "$CREDENTIALS_DIRECTORY/db-password"')},
                  f"{name},file credential")


def _only_the_closure(name: str) -> Expect:
    return Expect("command", {"on": name,
                              "run": 'test "$(ls /nix/store | wc -l)" = 3 && '
                                     "! ls /nix/store | grep host-only"},
                  f"{name},only the closure in /nix/store")


BEYOND_GOOD: tuple[Expect, ...] = (
    Expect("unit-active", {"container": "gamma"}, "gamma"),
    Expect("unit-active", {"container": "delta"}, "delta"),
    Expect("unit-active", {"container": "epsilon"}, "epsilon"),
    # credentials: read by a service in the container, root-only, never in a unit file
    _file_credential("gamma"),
    Expect("command", {"on": "gamma", "output": hashlib.sha256(APP_CONF.encode()).hexdigest(),
                       "run": _credential("app.conf",
                                          'sha256sum "$CREDENTIALS_DIRECTORY/app.conf"')},
           "gamma,text credential byte for byte"),
    Expect("command", {"on": "gamma", "run": "stat -c %a:%U /run/credentials/@system/db-password",
                       "output": "400:root"}, "gamma,system credential root-only"),
    Expect("command", {"on": "host", "output": "400:root", "run": "stat -c %a:%U "
                       "/run/credentials/systemd-nspawn@gamma.service/db-password"},
           "host,loaded credential root-only"),
    Expect("command", {"on": "host", "run": f"! grep -rF {SECRET} /etc/systemd /run/systemd"},
           "host,secret in no unit file"),
    # extraFlags: quoted for the Exec line, they reach systemd-nspawn as written
    Expect("command", {"on": "gamma", "run": "tr '\\0' '\\n' < /proc/1/environ",
                       "output": f"GREETING={GREETING}\n"}, "gamma,extra flag"),
    # serviceConfig: the limits of the unit are the container's
    Expect("command", {"on": "host", "run": f"cat {_cgroup('gamma')}/memory.max",
                       "output": MEMORY_MAX}, "host,gamma memory.max"),
    Expect("command", {"on": "host", "run": f"cat {_cgroup('gamma')}/pids.max", "output": "256"},
           "host,gamma pids.max"),
    _payload_in_unit("gamma"),
    # closure-only store: the closure, readable, read-only; a host-only path absent
    _only_the_closure("delta"),
    Expect("command", {"on": "host", "run": "ls /nix/store | grep host-only"},
           "host,host-only path on the host"),
    Expect("command", {"on": "delta", "run": "cat /nix/store/*-nixos-nspawn-closure-pkg/bin/tool",
                       "output": "closure tool"}, "delta,closure directory"),
    Expect("command", {"on": "delta", "run": "cat /nix/store/*-nixos-nspawn-closure.conf",
                       "output": "closure conf"}, "delta,closure file"),
    Expect("command", {"on": "delta", "run": "cat /nix/store/*-nixos-nspawn-closure-link/bin/tool",
                       "output": "closure tool"}, "delta,closure symlink"),
    Expect("command", {"on": "delta", "run": "touch /nix/store/new", "exit": 1},
           "delta,store read-only"),
    Expect("command", {"on": "delta", "run": "touch /nix/store/*-nixos-nspawn-closure-pkg/new",
                       "exit": 1}, "delta,closure path read-only"),
    # nix = overlay: the closure seeded, a build into the upper layer only, gone on restart
    Expect("command", {"on": "epsilon",
                       "run": f"{NIX}nix-store --load-db < /nix/.nixos-nspawn/registration && "
                              f"{NIX}nix-store --check-validity "
                              "/nix/store/*-nixos-nspawn-closure-pkg"},
           "epsilon,closure seeded"),
    Expect("command", {"on": "epsilon", "exit": 1,
                       "run": f"{NIX}nix-store --check-validity /nix/store/*-host-only"},
           "epsilon,host-only path unknown"),
    Expect("command", {"on": "epsilon", "output": "-built-in-epsilon",
                       "run": f"{BUILD} && {NIX}nix-build /root/build.nix --no-out-link"},
           "epsilon,nix-build"),
    Expect("command", {"on": "host", "run": "! ls /nix/store | grep built-in-epsilon"},
           "host,build not in the host store"),
    Expect("command", {"on": "host", "run": f"ls /proc/{_leader('epsilon')}/root/nix/.nixos-nspawn"
                                            "/upper | grep built-in-epsilon"},
           "host,build in the upper layer"),
    Expect("command", {"on": "epsilon",
                       "run": f"{NIX}nix-store --gc && ! ls /nix/store | grep host-only"},
           "epsilon,garbage collection hides an unknown path"),
    Expect("command", {"on": "host", "run": "ls /nix/store | grep host-only"},
           "host,garbage collection left the host store alone"),
    Expect("command", {"on": "host", "run": "systemctl restart systemd-nspawn@epsilon"},
           "host,restart epsilon"),
    Expect("command", {"on": "epsilon",
                       "run": "! ls /nix/store | grep built-in-epsilon && "
                              "test ! -e /nix/var/nix/db && ls /nix/store | grep host-only"},
           "epsilon,nothing survives the restart"),
)

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
    Broken("nokeep", "gamma's command line without --keep-unit", _payload_in_unit("nokeep"),
           "lacks '/machine.slice/systemd-nspawn@nokeep.service/payload/'", base="gamma"),
    Broken("nocred", "gamma's credentials loaded, but not passed to systemd-nspawn",
           _file_credential("nocred"), f"lacks {SECRET!r}", base="gamma"),
    Broken("leaky", "delta with the host's whole store instead of its closure",
           _only_the_closure("leaky"), "exit status 1, expected 0", base="delta"),
)

FIXED_RANGE = "268435456:65536"


def _break(name: str, settings: dict[str, Any], networks: dict[str, Any],
           service: dict[str, Any]) -> None:
    """Apply the broken setting of negative control ``name`` (in place)."""
    exec_, files, network = (settings["execConfig"], settings["filesConfig"],
                             settings["networkConfig"])
    match name:
        case "nokeep":
            service["ExecStart"] = [line.replace(" --keep-unit", "")
                                    for line in service["ExecStart"]]
        case "nocred":
            del service["ExecStart"]
        case "leaky":
            settings["extraDrvConfig"] = LEAKY_VIEW
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
        case _:
            raise KeyError(name)


def _variant(
    case: dict[str, Any], base: str, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
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
    containers: tuple[str, ...]


def merge_cases(*cases: dict[str, Any]) -> dict[str, Any]:
    """Several exported cases as one (their containers have distinct names)."""
    merged: dict[str, Any] = {"case": "+".join(c["case"] for c in cases),
                              "description": "; ".join(c["description"] for c in cases)}
    for key in sorted({k for c in cases for k in c} - {"case", "description"}):
        merged[key] = {}
        for c in cases:
            clash = set(merged[key]) & set(c.get(key, {}))
            if clash:
                raise ValueError(f"{key}: {sorted(clash)} in more than one case")
            merged[key].update(copy.deepcopy(c.get(key, {})))
    return merged


def make_plan(references: list[dict[str, Any]], skeleton: tuple[str, ...]) -> Plan:
    reference = merge_cases(*references)
    case = copy.deepcopy(reference)
    twins: dict[str, dict[str, Any]] = {}
    bases = {b.name: b.base for b in NEGATIVE} | {p: b.base for b in NEGATIVE for p in b.peers}
    for name, base in bases.items():
        settings, networks = _variant(reference, base, name)
        twins[name] = copy.deepcopy(settings)
        service = copy.deepcopy(reference["serviceOverrides"][base])
        _break(name, settings, networks, service)
        case["nspawn"][name] = settings
        case["hostNetworks"].update(networks)
        case["containerNetworks"][name] = copy.deepcopy(reference["containerNetworks"][base])
        case["serviceOverrides"][name] = service
    good = topology_of(reference["nspawn"], skeleton)
    negative = {
        b.name: topology_of({n: twins[n] for n in (b.name, *b.peers)}, skeleton)
        for b in NEGATIVE
    }
    return Plan(case, good, negative, (*reference["nspawn"], *bases))


def prepare_stand_ins(machine: ConsoleMachine) -> None:
    """What a NixOS host would have for runtime-beyond: gamma's credential file (root-only), the
    closure of delta's and epsilon's system, and a store path outside it; and the `leaky`
    control's store (:data:`LEAKY_VIEW`)."""
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
    machine.succeed(f"printf '[Files]\\nBindReadOnly=/nix/store\\n' > {LEAKY_VIEW}")


@dataclass
class RunRecord:
    """What the VM run leaves for the tests (JSON-serialisable, shared between workers)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
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
    references = [json.loads(path.read_text()) for path in (REFERENCE, BEYOND)]
    with ConsoleMachine(VmConfig(image, log_dir=out_dir / "vm")) as machine:
        mark = lap("boot", mark)
        plan = make_plan(references, template_entries(machine))
        prepare_stand_ins(machine)
        install_case(machine, plan.case)
        units = " ".join(f"systemd-nspawn@{n}.service" for n in plan.containers)
        machine.succeed(f"systemctl start --no-block {units}")
        mark = lap("install+start", mark)
        good = Session(machine, plan.good, out_dir, stdout=_Lines(progress))
        for expect in GOOD + BEYOND_GOOD:
            record.results[expect.id] = asdict(good.check(expect.id, expect.check, expect.params))
        mark = lap("good checks", mark)
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
