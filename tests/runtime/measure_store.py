"""Measure what a closure-only /nix/store costs a container's start and stop, on the runtime VM.

    flock /tmp/runtime-vm.lock .venv/bin/python tests/runtime/measure_store.py [PATHS] [ROUNDS]

(as root, like the runtime tier). It boots the runtime tier's Debian VM, makes PATHS (default
3000) small store paths, and starts and stops one container per way of showing them, ROUNDS
(default 2) times each:

- ``none``: no /nix/store at all (the container's own boot, for reference);
- ``host``: the whole store, one read-only bind (``nixStore = "host"``);
- ``binds``: the first way ``nixStore = "closure"`` was made (:data:`BIND_VIEW`): a read-only
  skeleton with an entry per store path, bound as /nix/store, and one bind per store path;
- ``image``: what ``nixStore = "closure"`` does now: the module's own store-image.sh builds an
  erofs image of the paths (as microvm.nix builds its store disk), loop-mounted on the host and
  bound as /nix/store.

It prints a Markdown table (docs/store.md records one run): wall-clock seconds of
``systemctl start`` (until the container's systemd reports ready) and ``systemctl stop``, the
mounts in the container's mount table and its systemd's mount units, and what the image costs to
build and mount. Under QEMU's TCG emulation every number is several times what a real machine
shows; the ratios are what matter.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from support.vm.console import ConsoleMachine, VmConfig
from support.vm.image import ensure_image
from support.vm.install import STORE_IMAGE_SCRIPT, install_container_root, install_files
from support.vm.units import UnitFile, nspawn_unit

WORK = "/srv/closure-store-measure"
PATHS_FILE = f"{WORK}/store-paths"
IMAGE = f"{WORK}/store.erofs"
IMAGE_MOUNT = "/run/closure-store-measure/store"
VARIANTS = ("none", "host", "binds", "image")
BIND_VIEW = f"""
mkdir -p {WORK}/skeleton && echo '[Files]' && echo "BindReadOnly={WORK}/skeleton:/nix/store"
while read -r path; do
  entry={WORK}/skeleton/${{path##*/}}
  if [ -L "$path" ]; then cp -P "$path" "$entry"
  elif [ -d "$path" ]; then mkdir "$entry" && echo "BindReadOnly=$path"
  else : > "$entry" && echo "BindReadOnly=$path"; fi
done < {PATHS_FILE}
chmod -R a-w {WORK}/skeleton
"""
"""The ``binds`` variant's [Files] lines (on stdout) and its skeleton: an empty directory or file
per store path for the path to be bound onto, a copy of a symlink."""


def settings(store: list[str]) -> dict[str, dict[str, object]]:
    """The module's settings for a container without network, with these store binds."""
    return {
        "execConfig": {
            "Boot": False,
            "Parameters": "/usr/lib/systemd/systemd",
            "Ephemeral": True,
            "PrivateUsers": "pick",
            "NotifyReady": True,
            "KillSignal": "SIGRTMIN+3",
            "LinkJournal": "try-host",
            "ResolvConf": "off",
            "Timezone": "off",
        },
        "filesConfig": {"PrivateUsersOwnership": "chown", "BindReadOnly": ["/usr", *store]},
        "networkConfig": {"Private": True, "VirtualEthernet": False},
    }


@dataclass
class Row:
    variant: str
    start: list[float]
    stop: list[float]
    mounts: int = 0
    mount_units: int = 0


def timed(action: Callable[[], object]) -> float:
    began = time.monotonic()
    action()
    return round(time.monotonic() - began, 1)


def prepare(machine: ConsoleMachine, count: int) -> dict[str, float]:
    """The store paths, each variant's container, the bind view and the image; build costs."""
    costs: dict[str, float] = {}
    costs["make paths"] = timed(
        lambda: machine.succeed(
            f"mkdir -p {WORK} /nix/store && rm -f {PATHS_FILE} && for i in $(seq 1 {count}); do "
            "p=/nix/store/$(printf '%032d' $i | tr 0-9 a-j)-measure-$i; "
            "mkdir -p $p/bin $p/lib && echo '#!/bin/sh' > $p/bin/tool && echo $i > $p/lib/data && "
            f"echo $p >> {PATHS_FILE}; done",
            timeout=3600,
        )
    )
    stores: dict[str, list[str]] = {
        "none": [],
        "host": ["/nix/store"],
        "binds": [],
        "image": [f"{IMAGE_MOUNT}:/nix/store"],
    }
    for variant, store in stores.items():
        name = f"sv-{variant}"
        install_container_root(machine, name)
        install_files(
            machine,
            [
                UnitFile(f"/etc/systemd/nspawn/{name}.nspawn", nspawn_unit(settings(store))),
                UnitFile(
                    f"/etc/systemd/system/systemd-nspawn@{name}.service.d/timeout.conf",
                    "[Service]\nTimeoutStartSec=30min\nTimeoutStopSec=30min\n",
                ),
            ],
        )
    install_files(
        machine,
        [
            UnitFile(f"{WORK}/bind-view.sh", BIND_VIEW),
            UnitFile(f"{WORK}/store-image.sh", STORE_IMAGE_SCRIPT.read_text()),
        ],
    )
    costs["binds: skeleton and [Files] lines"] = timed(
        lambda: machine.succeed(
            f"rm -rf {WORK}/skeleton && sh {WORK}/bind-view.sh "
            ">> /etc/systemd/nspawn/sv-binds.nspawn",
            timeout=3600,
        )
    )
    costs["image: store-image.sh (copy, mkfs.erofs)"] = timed(
        lambda: machine.succeed(f"sh {WORK}/store-image.sh {PATHS_FILE} {IMAGE}", timeout=3600)
    )
    machine.succeed(f"mkdir -p {IMAGE_MOUNT} && systemctl daemon-reload")
    return costs


def measure(machine: ConsoleMachine, variant: str, row: Row, costs: dict[str, float]) -> None:
    name = f"sv-{variant}"
    if variant == "image":
        costs.setdefault(
            "image: loop mount",
            timed(lambda: machine.succeed(f"mount -o loop,ro -t erofs {IMAGE} {IMAGE_MOUNT}")),
        )
    row.start.append(
        timed(lambda: machine.succeed(f"systemctl start systemd-nspawn@{name}", timeout=3600))
    )
    leader = machine.succeed(f"machinectl show {name} -p Leader --value").strip()
    row.mounts = int(machine.succeed(f"wc -l < /proc/{leader}/mountinfo"))
    row.mount_units = int(
        machine.succeed(
            f"nsenter -t {leader} -m -u -i -n -p -U -- systemctl list-units --type=mount --all "
            "--no-legend | wc -l"
        )
    )
    row.stop.append(
        timed(lambda: machine.succeed(f"systemctl stop systemd-nspawn@{name}", timeout=3600))
    )
    if variant == "image":
        machine.succeed(f"umount {shlex.quote(IMAGE_MOUNT)}")


def table(count: int, rows: list[Row], costs: dict[str, float]) -> str:
    def seconds(values: list[float]) -> str:
        return " / ".join(f"{v:.1f}" for v in values)

    lines = [
        f"{count} store paths, start and stop in seconds per round:",
        "",
        "| variant | start | stop | mounts in the container | mount units |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| `{r.variant}` | {seconds(r.start)} | {seconds(r.stop)} | {r.mounts} | "
            f"{r.mount_units} |"
            for r in rows
        ),
        "",
        "| one-off cost | seconds |",
        "| --- | --- |",
        *(f"| {what} | {value:.1f} |" for what, value in costs.items()),
    ]
    return "\n".join(lines)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    image = ensure_image()
    rows = [Row(variant, [], []) for variant in VARIANTS]
    logs = Path(tempfile.mkdtemp(prefix="closure-store-measure-"))
    print(f"VM logs in {logs}", file=sys.stderr)
    with ConsoleMachine(VmConfig(image, log_dir=logs)) as vm:
        costs = prepare(vm, count)
        for _ in range(rounds):
            for row in rows:
                measure(vm, row.variant, row, costs)
                print(f"{row.variant}: start {row.start} stop {row.stop}", file=sys.stderr)
    print(table(count, rows, costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
