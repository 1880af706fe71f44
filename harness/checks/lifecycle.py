"""Container lifecycle checks: unit-active and ephemeral."""

import shlex
import uuid

from .nodes import Context, Failure, present
from .spec import CONTAINER_PARAMS, CheckSpec, Params, container_label, not_host
from .topology import MACHINES_DIR

ROOT_MARKER_DIRS = ("/", "/etc", "/var", "/root")
"""Where ``ephemeral`` writes markers that must not survive a restart."""


def check_unit_active(ctx: Context, p: Params) -> str:
    container = ctx.topology.container(p.text("container"))
    unit = container.unit
    host = ctx.host()
    out, ok = host.run_until(
        f"systemctl show -p ActiveState --value {shlex.quote(unit)}",
        lambda o: o.text.strip() in ("active", "failed"),
    )
    if not ok or out.text.strip() != "active":
        host.run(f"systemctl status --no-pager -n 20 {shlex.quote(unit)}")  # evidence only
        raise Failure(f"expected {unit} to be active; it is {out.text.strip() or 'unknown'!r}")
    leader = ctx.container(container.name).leader
    state = host.run(f"machinectl show {shlex.quote(container.name)} -p State --value")
    return (
        f"{unit} is active; machined has {container.name} registered "
        f"(leader {leader}, state {state.text.strip() or 'unknown'})"
    )


def check_ephemeral(ctx: Context, p: Params) -> str:
    name = p.text("container")
    container = ctx.topology.container(name)
    node = ctx.container(name)
    node.wait_booted()
    token = uuid.uuid4().hex[:12]
    marker = f".nixos-nspawn-ephemeral-{token}"
    roots = [f"{d.rstrip('/')}/{marker}" for d in ROOT_MARKER_DIRS]
    binds = [f"{b.path.rstrip('/')}/{marker}" for b in container.binds if not b.read_only]
    ctx.evidence.fact("markers in the container root", "\n".join(roots))
    ctx.evidence.fact("markers in read-write binds", "\n".join(binds) or "none (no rw binds)")
    written = node.run(" && ".join(f"echo {token} > {shlex.quote(m)}" for m in roots + binds))
    if not written.ok:
        raise Failure(f"could not write the markers in {name} (exit {written.status})")

    node = node.restart()
    node.wait_booted()
    found = present(node, roots + binds, "the markers")
    survived = [m for m in roots if m in found]
    lost = [m for m in binds if m not in found]
    host = ctx.host()
    directory = f"{MACHINES_DIR}/{name}"
    listing = host.run(f"ls -A {shlex.quote(directory)}")
    stray = host.run(f"find {shlex.quote(directory)} -xdev -name {shlex.quote(marker)}")
    extra = sorted(set(listing.text.split()) - set(ctx.topology.root_skeleton))
    leftovers = [m for m in roots + binds if m in found]
    if leftovers:  # clean up only after the host's directory has been searched for them
        node.run("rm -f " + " ".join(shlex.quote(m) for m in leftovers))

    problems = [f"marker survived the restart: {m}" for m in survived]
    problems += [f"marker in a read-write bind was lost: {m}" for m in lost]
    if not listing.ok:
        problems.append(f"{directory} is missing on the host: {listing.text.strip()}")
    elif extra:
        problems.append(f"{directory} on the host is not empty: {' '.join(extra)}")
    problems += [
        f"marker written to the host's {directory}: {m}" for m in stray.text.split() if stray.ok
    ]
    if problems:
        raise Failure(
            f"expected {name} to forget everything outside its binds across a restart of "
            f"{container.unit}; " + "; ".join(problems)
        )
    kept = f"; {len(binds)} marker(s) in read-write binds were kept" if binds else ""
    return (
        f"{len(roots)} markers in {', '.join(ROOT_MARKER_DIRS)} were gone after restarting "
        f"{container.unit}{kept}; {directory} on the host holds "
        f"{'only the skeleton' if ctx.topology.root_skeleton else 'nothing'}"
    )


UNIT_ACTIVE = CheckSpec(
    name="unit-active",
    doc="`systemd-nspawn@<container>.service` becomes active and machined registers the "
    "container (it has a Leader), within the timeout.",
    params=CONTAINER_PARAMS,
    label=container_label,
    rules=(not_host,),
)

EPHEMERAL = CheckSpec(
    name="ephemeral",
    doc="Markers written to the container's `/`, `/etc`, `/var` and `/root` are gone after "
    "restarting `systemd-nspawn@<container>.service`, markers in its read-write binds are "
    "kept (and then removed), and `/var/lib/machines/<container>` on the host stays empty.",
    params=CONTAINER_PARAMS,
    label=container_label,
    rules=(not_host,),
)
