"""Isolation checks: userns, store-readonly, no-nix-daemon."""

import shlex
import uuid
from dataclasses import dataclass

from .nodes import ContainerNode, Context, Failure, Output, present
from .spec import CONTAINER_PARAMS, CheckSpec, Params, container_label, not_host

RANGE = 65536
"""UIDs (and GIDs) per container: ``PrivateUsers=pick`` maps exactly 16 bits."""
BASE_MIN, BASE_END = 0x80000, 0x6FFF0000
"""systemd's container UID window (``CONTAINER_UID_BASE_MIN`` .. ``_MAX``, end exclusive)."""
DAEMON_SOCKET = "/nix/var/nix/daemon-socket/socket"


@dataclass(frozen=True)
class IdMap:
    """A container's ID mapping read from ``/proc/<leader>/{uid,gid}_map``."""

    lines: tuple[tuple[int, ...], ...]

    @classmethod
    def parse(cls, text: str) -> "IdMap":
        rows = []
        for line in text.splitlines():
            words = line.split()
            if words:
                rows.append(tuple(int(w) if w.isdigit() else -1 for w in words))
        return cls(tuple(rows))

    @property
    def base(self) -> int | None:
        """The host ID that container root maps to, if the map has a single line."""
        return self.lines[0][1] if len(self.lines) == 1 and len(self.lines[0]) == 3 else None

    def problems(self, kind: str) -> list[str]:
        """What makes this map differ from one ``0 BASE 65536`` range in the window."""
        if len(self.lines) != 1 or len(self.lines[0]) != 3:
            shown = " / ".join(" ".join(map(str, r)) for r in self.lines) or "empty"
            return [f"{kind}: expected exactly one line '0 BASE {RANGE}', saw {shown!r}"]
        inside, base, count = self.lines[0]
        problems = []
        if inside != 0:
            problems.append(f"{kind}: maps container ID {inside} first, expected 0 (root)")
        if count != RANGE:
            problems.append(f"{kind}: range of {count} IDs, expected {RANGE}")
        if base == 0:
            problems.append(f"{kind}: container root is host root (base 0, no private users)")
        elif base % RANGE:
            problems.append(f"{kind}: base {base} ({base:#x}) is not a multiple of {RANGE}")
        if base != 0 and not BASE_MIN <= base < BASE_END:
            problems.append(f"{kind}: base {base:#x} outside [{BASE_MIN:#x}, {BASE_END:#x})")
        return problems


def read_map(node: ContainerNode, kind: str) -> IdMap:
    out = node.read_host_file(kind)
    if not out.ok:
        raise Failure(f"cannot read /proc/{node.leader}/{kind} of {node.name} (exit {out.status})")
    return IdMap.parse(out.text)


def span(base: int) -> str:
    return f"{base:#x}..{base + RANGE - 1:#x}"


def check_userns(ctx: Context, p: Params) -> str:
    name = p.text("container")
    node = ctx.container(name)
    uids, gids = read_map(node, "uid_map"), read_map(node, "gid_map")
    problems = uids.problems("uid_map") + gids.problems("gid_map")
    base = uids.base
    if base is not None and gids.base is not None and gids.base != base:
        problems.append(f"gid_map base {gids.base:#x} differs from uid_map base {base:#x}")

    host = ctx.host()
    owner = host.run(f"stat -c %u /proc/{node.leader}").text.strip()
    if base is not None and owner != str(base):
        problems.append(
            f"the leader (container root) is owned by host uid {owner or '?'}, expected {base}"
        )
    namespaces = host.run(f"readlink /proc/{node.leader}/ns/user /proc/self/ns/user")
    own, hosts = [*namespaces.text.split(), "", ""][:2]
    if not namespaces.ok or own == hosts:
        problems.append(f"the container shares the host's user namespace ({own or '?'})")

    ranges = {name: base} if base is not None else {}
    for other in ctx.topology.names:
        if other == name:
            continue
        peer = ctx.container(other)
        if peer.leader_now() is None:
            ctx.evidence.fact(f"{other} uid_map", "not running: not compared")
            continue
        peer_base = read_map(peer, "uid_map").base
        if peer_base is not None:
            ranges[other] = peer_base
    problems += overlaps(ranges)

    if problems:
        ctx.evidence.fact("restart", "skipped: the range is already wrong")
    elif base is not None:
        ctx.evidence.fact("restart", f"restarting {node.container.unit} to compare ranges")
        after = read_map(node.restart(), "uid_map").base
        if after != base:
            problems.append(
                f"range changed across a restart: base {base:#x} before, "
                f"{after if after is None else hex(after)} after"
            )
    if problems:
        raise Failure(
            f"expected {name} to run in its own user namespace with one {RANGE}-ID range "
            f"disjoint from the other containers'; " + "; ".join(problems)
        )
    assert base is not None  # no problems means the map had a base
    others = ", ".join(f"{n} {span(b)}" for n, b in ranges.items() if n != name)
    return (
        f"{name}: container root is host uid {base} ({span(base)}), leader owned by it on the "
        f"host, own user namespace; disjoint from {others or 'no other running container'}; "
        f"same range after restarting {node.container.unit}"
    )


def overlaps(ranges: dict[str, int]) -> list[str]:
    """Every pair of containers whose ID ranges overlap."""
    names = sorted(ranges, key=lambda n: ranges[n])
    return [
        f"ranges overlap: {a} {span(ranges[a])} and {b} {span(ranges[b])}"
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if ranges[b] < ranges[a] + RANGE
    ]


def check_store_readonly(ctx: Context, p: Params) -> str:
    name, store = p.text("container"), ctx.topology.store_path
    node = ctx.container(name)
    mount = node.run(f"findmnt -no OPTIONS {shlex.quote(store)}")
    lines = mount.text.strip().splitlines()
    options = lines[-1].strip() if mount.ok and lines else ""
    probe = f"{store.rstrip('/')}/.nixos-nspawn-write-test-{uuid.uuid4().hex[:12]}"
    write = node.run(f"touch {shlex.quote(probe)}")
    problems = []
    if not options:
        problems.append(f"{store} is not a mount point in {name}")
    elif "ro" not in options.split(","):
        problems.append(f"{store} is mounted read-write ({options})")
    if write.ok:
        node.run(f"rm -f {shlex.quote(probe)}")
        problems.append(f"writing {probe} succeeded")
    if problems:
        raise Failure(f"expected {store} to be a read-only mount in {name}; " + "; ".join(problems))
    return f"{store} in {name} is mounted {options}; writing failed: {_last_line(write)}"


def _last_line(out: Output) -> str:
    lines = out.text.strip().splitlines()
    return lines[-1] if lines else f"exit {out.status}"


def check_no_nix_daemon(ctx: Context, p: Params) -> str:
    name = p.text("container")
    node = ctx.container(name)
    node.wait_booted()
    paths = (DAEMON_SOCKET, "/nix/var")
    found = present(node, paths, " and ".join(paths))
    processes = node.run("cat /proc/[0-9]*/comm 2>/dev/null; true")
    problems = [f"{path} exists" for path in paths if path in found]
    if not processes.ok:
        problems.append(f"could not list processes (exit {processes.status})")
    if "nix-daemon" in processes.text.split():
        problems.append("a nix-daemon process runs in the container")
    if problems:
        raise Failure(f"expected no Nix daemon and no /nix/var in {name}; " + "; ".join(problems))
    return f"{name} has no {DAEMON_SOCKET}, no /nix/var and no nix-daemon process"


USERNS = CheckSpec(
    name="userns",
    doc=f"The leader's uid_map and gid_map are one line '0 BASE {RANGE}' with BASE a multiple of "
    f"{RANGE} in [{BASE_MIN:#x}, {BASE_END:#x}); the leader is owned by host uid BASE and "
    "has its own user namespace; the ranges of all running containers are pairwise "
    "disjoint; the check restarts the container and expects the same BASE afterwards.",
    params=CONTAINER_PARAMS,
    label=container_label,
    rules=(not_host,),
)

STORE_READONLY = CheckSpec(
    name="store-readonly",
    doc="Inside the container, the store (`/nix/store`) is a read-only mount (findmnt shows "
    "`ro`) and creating a file in it fails.",
    params=CONTAINER_PARAMS,
    label=container_label,
    rules=(not_host,),
)

NO_NIX_DAEMON = CheckSpec(
    name="no-nix-daemon",
    doc=f"Once booted, the container has no {DAEMON_SOCKET}, no /nix/var and no nix-daemon "
    "process: the host's daemon is not passed in.",
    params=CONTAINER_PARAMS,
    label=container_label,
    rules=(not_host,),
)
