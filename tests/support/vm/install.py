"""Put rendered units and container roots into the running VM, and describe them as a Topology.

This is the runtime tier's stand-in for what NixOS activation does on a real host: write the
files under /etc, create each container's (nearly empty) root, create bind-mount sources, and
make networkd pick up its new units. It changes no setting: what runs is what was rendered.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from harness.checks import Bind, Container, Topology
from harness.checks.topology import MACHINES_DIR
from support.vm.console import ConsoleMachine
from support.vm.image import TEMPLATE_DIR
from support.vm.units import (
    DEBIAN_SYSTEM,
    STAND_IN_DIR,
    UnitFile,
    UnitLink,
    UnitRenderError,
    render_case,
    translate_nspawn,
    translated_mounts,
)

STORE_PATH = DEBIAN_SYSTEM
"""What the Debian containers bind read-only in place of /nix/store (see units.py)."""

DEVICES = "/dev/"
"""Binds below this are device nodes (the module's ``devices``): they exist on the host already
and hold no state of the container."""

CLOSURE_PATHS = f"{STAND_IN_DIR}/store-paths"
REGISTRATION = f"{STAND_IN_DIR}/registration"
"""The stand-in closure's ``store-paths`` and ``registration`` (what ``pkgs.closureInfo`` builds
on NixOS), made by :func:`install_stand_in_closure`."""

STORE_IMAGE_SCRIPT = Path(__file__).resolve().parents[3] / "nix" / "host" / "store-image.sh"
"""The module's own builder of a closure's store image, run unchanged in the VM."""

NIX = "NIX_CONFIG=\"$(printf 'build-users-group =\\nsandbox = false\\nsubstituters =')\" "
"""Debian's nix-bin as root without build users (the VM has no nixbld group), without a sandbox
(Nix 2.8's needs more than a container gives) and offline."""


def install_case(machine: ConsoleMachine, case: Mapping[str, object]) -> None:
    """Install a whole exported case: container roots, tmpfiles, bind sources, units, sysctl.

    Container roots come first, because container-side networks are written into them. Bind
    sources are plain root-owned directories, as on a NixOS host: the module idmaps binds by
    default. systemd (for the service drop-ins) and networkd are reloaded at the end, so that
    the units apply to what starts later.
    """
    nspawn = _section(case, "nspawn")
    tmpfiles = _section(case, "tmpfiles")
    for name, settings in nspawn.items():
        install_container_root(machine, name)
        translated = translate_nspawn(_mapping(settings))
        prepare_bind_sources(machine, bind_sources(translated))
    for path, entries in tmpfiles.items():
        apply_tmpfiles_dir(machine, path, _mapping(entries))
    install_store_images(machine, [mount.what for mount in translated_mounts(case)])
    install_files(machine, render_case(case))
    # systemd-sysctl applies /etc/sysctl.d (NixOS restarts it when its file changes).
    machine.succeed(
        "systemctl daemon-reload && networkctl reload && systemctl restart systemd-sysctl"
    )


def add_to_store(machine: ConsoleMachine, source: str) -> str:
    """``nix-store --add`` of a path in the VM; its store path."""
    path = machine.succeed(f"{NIX}nix-store --add {shlex.quote(source)}").strip()
    if not path.startswith("/nix/store/"):
        raise ValueError(f"nix-store --add {source} printed {path!r}")
    return path


def install_stand_in_closure(machine: ConsoleMachine, paths: Sequence[str]) -> None:
    """Make *paths* (in the VM's Nix store) the stand-in for a container's closure: write their
    :data:`CLOSURE_PATHS` and :data:`REGISTRATION`."""
    quoted = " ".join(shlex.quote(path) for path in paths)
    machine.succeed(
        f"mkdir -p {STAND_IN_DIR} && printf '%s\\n' {quoted} > {CLOSURE_PATHS} && "
        f"{NIX}nix-store --dump-db {quoted} > {REGISTRATION}"
    )


def install_store_images(machine: ConsoleMachine, images: Sequence[str]) -> None:
    """Build each closure store image (``<name>.store.erofs``, a translated mount unit's
    ``What=``, see units.py) with the module's store-image.sh over the stand-in closure."""
    images = [image for image in images if image.endswith(".store.erofs")]
    if not images:
        return
    script = f"{STAND_IN_DIR}/store-image.sh"
    install_files(machine, [UnitFile(script, STORE_IMAGE_SCRIPT.read_text())])
    for image in images:
        machine.succeed(
            f"test -s {CLOSURE_PATHS} && rm -f {shlex.quote(image)} && "
            f"sh {script} {CLOSURE_PATHS} {shlex.quote(image)}"
        )


def apply_tmpfiles_dir(machine: ConsoleMachine, path: str, entries: Mapping[str, object]) -> None:
    """A tmpfiles ``d`` entry: the directory with its owner and mode.

    The module only declares container directories this way (empty on NixOS). Here they hold
    the Debian skeleton, so the owner is applied to the whole skeleton, as it would be to the
    single empty directory on NixOS.
    """
    unknown = sorted(set(entries) - {"d"})
    if unknown:
        raise ValueError(f"tmpfiles {path}: unsupported entry types {unknown}")
    entry = _section(entries, "d")
    owner = f"{entry.get('user', 'root')}:{entry.get('group', 'root')}"
    recursive = "-R " if path.startswith(f"{MACHINES_DIR}/") else ""
    quoted = shlex.quote(path)
    machine.succeed(
        f"mkdir -p {quoted} && chown {recursive}{shlex.quote(owner)} {quoted} && "
        f"chmod {shlex.quote(str(entry.get('mode', '0755')))} {quoted}"
    )


def install_files(machine: ConsoleMachine, files: Iterable[UnitFile | UnitLink]) -> None:
    """Write each file or link (parents created); content travels base64-encoded, byte for
    byte."""
    for unit in files:
        path = shlex.quote(unit.path)
        parent = shlex.quote(str(PurePosixPath(unit.path).parent))
        if isinstance(unit, UnitLink):
            machine.succeed(f"mkdir -p {parent} && ln -sfn {shlex.quote(unit.target)} {path}")
            continue
        payload = base64.b64encode(unit.text.encode()).decode()
        machine.succeed(f"mkdir -p {parent} && echo {payload} | base64 -d > {path}")


def install_container_root(machine: ConsoleMachine, name: str) -> None:
    """A fresh container root from the template, with the container's hostname."""
    root = shlex.quote(f"{MACHINES_DIR}/{name}")
    machine.succeed(
        f"rm -rf {root} && cp -a {shlex.quote(TEMPLATE_DIR)} {root} && "
        f"echo {shlex.quote(name)} > {root}/etc/hostname"
    )


def template_entries(machine: ConsoleMachine) -> tuple[str, ...]:
    """The names at the top of the container template, for :attr:`Topology.root_skeleton`."""
    out = machine.succeed(f"ls -A {shlex.quote(TEMPLATE_DIR)}")
    return tuple(sorted(out.split()))


def bind_sources(nspawn: Mapping[str, object]) -> tuple[str, ...]:
    """Host directories that ``Bind=``/``BindReadOnly=`` need to exist before the container
    starts (device nodes exist already)."""
    files = _section(nspawn, "filesConfig")
    sources = []
    for key in ("Bind", "BindReadOnly"):
        for spec in _as_list(files.get(key)):
            source = split_bind(spec)[0].removeprefix("+")
            if source and not source.startswith(DEVICES):
                sources.append(source)
    return tuple(sources)


def prepare_bind_sources(machine: ConsoleMachine, paths: Sequence[str]) -> None:
    """Missing bind sources become directories (a stand-in file that exists stays)."""
    for path in paths:
        quoted = shlex.quote(path)
        machine.succeed(f"test -e {quoted} || mkdir -p {quoted}")


def container_of(name: str, nspawn: Mapping[str, object], store_path: str) -> Container:
    """The checks' view of one container, read from its (translated) nspawn settings."""
    translated = translate_nspawn(nspawn)
    network = _section(translated, "networkConfig")
    files = _section(translated, "filesConfig")
    zone = network.get("Zone")
    binds = [
        Bind(path=_inside(spec), read_only=read_only)
        for key, read_only in (("Bind", False), ("BindReadOnly", True))
        for spec in _as_list(files.get(key))
        if _inside(spec) != store_path and not _inside(spec).startswith(DEVICES)
    ]
    return Container(
        name=name,
        zone=zone if isinstance(zone, str) else None,
        veth=network.get("VirtualEthernet") is True or isinstance(zone, str),
        binds=tuple(binds),
    )


def topology_of(
    nspawn: Mapping[str, Mapping[str, object]],
    root_skeleton: Sequence[str],
    store_path: str = STORE_PATH,
) -> Topology:
    return Topology(
        containers=tuple(container_of(n, s, store_path) for n, s in nspawn.items()),
        store_path=store_path,
        root_skeleton=tuple(root_skeleton),
    )


def _inside(spec: str) -> str:
    """``source[:destination[:options]]`` -> the path inside the container."""
    parts = split_bind(spec)
    return parts[1] if len(parts) > 1 and parts[1] else parts[0].removeprefix("+")


def split_bind(spec: str) -> tuple[str, ...]:
    """A ``Bind=`` value as nspawn reads it (``bind_mount_parse``): source and destination are
    the first two words separated by ``:``, where a backslash takes the next character as it is
    (``\\:`` is a colon, ``\\\\`` a backslash); the rest, if any, are the options, verbatim."""
    words: list[str] = []
    word: list[str] = []
    chars = iter(enumerate(spec))
    for index, char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise UnitRenderError(f"Bind={spec}: ends in an unpaired backslash")
            word.append(escaped[1])
        elif char == ":":
            words.append("".join(word))
            word = []
            if len(words) == 2:
                return (*words, spec[index + 1 :])
        else:
            word.append(char)
    return (*words, "".join(word))


def _section(settings: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = settings.get(key, {})
    return value if isinstance(value, Mapping) else {}


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items]
