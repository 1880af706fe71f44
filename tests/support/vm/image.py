"""Build (or reuse) the bootable Debian bookworm host image for the runtime tier.

The image is a debootstrapped host root with systemd, systemd-networkd and systemd-container, an
ext4 file system made with ``mke2fs -d`` (no loop mount), plus the kernel and initrd beside it for
QEMU's ``-kernel``/``-initrd``. It is cached under ``~/.cache/nixos-nspawn/vm/<key>``, where the key
hashes this file and the recipe: a changed recipe builds a new image, an unchanged one is reused
at once. The build happens in a scratch directory and is renamed into place, so an interrupted
build never leaves a half image behind.

The image also carries a *container template* (:data:`TEMPLATE_DIR`): a nearly empty root with
``/etc``, ``/var`` and the usrmerge symlinks, but an empty ``/usr``. Containers bind the VM's
``/usr`` read-only into it, just as NixOS containers bind ``/nix/store``; so ``Ephemeral=yes``
copies a few megabytes instead of a whole Debian tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

Report = Callable[[str], None]

MIRROR_ENV = "NIXOS_NSPAWN_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CACHE_ENV = "NIXOS_NSPAWN_VM_CACHE"

HOSTNAME = "hostvm"
TEMPLATE_DIR = "/var/lib/nixos-nspawn/template"
"""Where the container template lives inside the image (outside /var/lib/machines on purpose:
machined would list it as an image there)."""

# What the VM runs and who needs it (the checks, tests/runtime and tests/support/vm).
HOST_PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",  # init, networkd, systemd-run, networkctl, systemd-escape
    "systemd-container",  # systemd-nspawn, machined, machinectl: what is tested
    "udev",  # networkd waits for udev to set links up; .device units (runtime_plan: moved link)
    "dbus",  # the system bus: machined (machinectl, nss-mymachines), networkd (networkctl)
    "kmod",  # modprobe, for the kernel's module autoloading: veth, bridge, macvlan, tun, overlay
    "iproute2",  # `ip` (checks: address, runtime_plan: links), `ss` (step wait-port)
    "iputils-ping",  # `ping` (checks: reachable, unreachable)
    "linux-image-amd64",
    "initramfs-tools",  # the kernel and initrd QEMU boots
    "busybox",  # runtime_plan: `busybox httpd` in the containers, `busybox wget` on the host
    "libnss-mymachines",  # container names resolve on the host (check reachable, by = "name")
)

APT_PACKAGES: tuple[str, ...] = (
    # Installed with apt-get after debootstrap, whose own dependency ordering fails on nix-bin's
    # Perl dependencies.
    "nix-bin",  # Nix 2.8: runtime_plan's `nix = "overlay"` container (epsilon), nix-store --add
    # (tests/support/vm/install.py), tests/runtime/measure_store.py
    "erofs-utils",  # mkfs.erofs: the module's store-image.sh (nixStore = "closure")
)

AUTOLOGIN_DROPIN = """\
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 - $TERM
"""

# Timers and jobs that only cost time in a throw-away VM.
MASKED_HOST_UNITS: tuple[str, ...] = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "man-db.timer",
    "dpkg-db-backup.timer",
    "systemd-timesyncd.service",
)

# What Debian's /etc (copied into the container template) enables and a NixOS container does not
# run, so that the stand-in container boots the units a NixOS one boots (bench/vm.py times it):
# Debian's timers above (NixOS has none of them, and no timesyncd in a container),
# systemd-sysusers (NixOS creates users in its activation script unless
# `systemd.sysusers.enable`), systemd-network-generator (NixOS ships the unit for the initrd and
# does not pull it into sysinit.target). Both of the latter are on networkd's critical path.
MASKED_CONTAINER_UNITS: tuple[str, ...] = (
    *MASKED_HOST_UNITS,
    "systemd-sysusers.service",
    "systemd-network-generator.service",
)

MASKED_CONTAINER_GENERATORS: tuple[str, ...] = ("systemd-sysv-generator",)
"""nixpkgs builds systemd without SysV compatibility (an empty ``sysvinit-path``), so without
this generator."""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the image's content (the mirror does not: it is where, not what)."""

    suite: str = "bookworm"
    packages: tuple[str, ...] = HOST_PACKAGES
    apt_packages: tuple[str, ...] = APT_PACKAGES
    size: str = "4G"
    hostname: str = HOSTNAME
    masked_units: tuple[str, ...] = MASKED_HOST_UNITS
    masked_container_units: tuple[str, ...] = MASKED_CONTAINER_UNITS
    masked_container_generators: tuple[str, ...] = MASKED_CONTAINER_GENERATORS

    def key(self) -> str:
        """Hash of the recipe and of this module's source, which is the rest of the recipe."""
        digest = hashlib.sha256()
        digest.update(json.dumps(asdict(self), sort_keys=True).encode())
        digest.update(Path(__file__).read_bytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Image:
    """A built image: what QEMU needs to boot it."""

    root: Path
    disk: Path = field(init=False)
    kernel: Path = field(init=False)
    initrd: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "disk", self.root / "host.img")
        object.__setattr__(self, "kernel", self.root / "vmlinuz")
        object.__setattr__(self, "initrd", self.root / "initrd.img")

    def complete(self) -> bool:
        return all(p.is_file() for p in (self.disk, self.kernel, self.initrd))


class ImageBuildError(RuntimeError):
    """A build step failed; the message carries the step and the tail of its log."""


def cache_root() -> Path:
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nixos-nspawn" / "vm"


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def ensure_image(
    recipe: Recipe = Recipe(),
    *,
    progress: Report = stderr_progress,
    cache: Path | None = None,
) -> Image:
    """Return the cached image for *recipe*, building it first if needed (root only)."""
    cache = cache or cache_root()
    image = Image(cache / recipe.key())
    if image.complete():
        progress(f"[vm-image] cached: {image.root}")
        return image
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="build-", dir=cache) as scratch:
        work = Path(scratch)
        out = work / "out"
        out.mkdir()
        _build(recipe, work / "rootfs", Image(out), cache / "debs", progress)
        shutil.rmtree(image.root, ignore_errors=True)
        out.rename(image.root)
    progress(f"[vm-image] built {image.root} in {time.monotonic() - started:.0f}s")
    return image


def _build(recipe: Recipe, rootfs: Path, out: Image, debs: Path, progress: Report) -> None:
    debs.mkdir(parents=True, exist_ok=True)
    mirror = os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
    with _phase("debootstrap", progress):
        _run_streaming(
            [
                "debootstrap",
                "--variant=minbase",
                f"--cache-dir={debs}",
                f"--include={','.join(recipe.packages)}",
                recipe.suite,
                str(rootfs),
                mirror,
            ],
            progress,
            timeout=1800,
        )
    if recipe.apt_packages:
        with _phase("apt-get install", progress):
            _apt_install(rootfs, recipe.apt_packages)
    with _phase("configure", progress):
        _chroot(rootfs, "systemctl", "enable", "systemd-networkd")
        _chroot(rootfs, "passwd", "-d", "root")
        _make_container_template(rootfs, recipe)
        _configure_host(rootfs, recipe)
    with _phase("kernel+initrd", progress):
        shutil.copyfile(_single(rootfs / "boot", "vmlinuz-*"), out.kernel)
        shutil.copyfile(_single(rootfs / "boot", "initrd.img-*"), out.initrd)
    with _phase("mke2fs", progress):
        _run(
            [
                "mke2fs",
                "-q",
                "-t",
                "ext4",
                "-L",
                "hostroot",
                "-d",
                str(rootfs),
                str(out.disk),
                recipe.size,
            ],
            timeout=600,
        )


def _make_container_template(rootfs: Path, recipe: Recipe) -> None:
    """The nearly empty container root, made from the freshly installed host's /etc.

    Copying the host's /etc gives the container the users (systemd-network, messagebus), the
    nsswitch and the enabled systemd-networkd, all matching the /usr it will bind. What must
    differ is set here: an empty machine-id (systemd fills it from the container UUID and does
    not treat the boot as a first boot), a real os-release file (nspawn checks for one before
    /usr is mounted), no fstab, no hostname (set per container when it is installed), and the
    units and generators a NixOS container does not run masked.
    """
    template = rootfs / TEMPLATE_DIR.lstrip("/")
    template.mkdir(parents=True)
    _run(["cp", "-a", str(rootfs / "etc"), str(template / "etc")], timeout=120)
    etc = template / "etc"
    (etc / "os-release").unlink()
    shutil.copyfile(rootfs / "usr/lib/os-release", etc / "os-release")
    (etc / "machine-id").write_text("")
    (etc / "fstab").write_text("")
    (etc / "hostname").unlink(missing_ok=True)
    for name in (
        "usr",
        "var/lib",
        "var/log",
        "var/cache",
        "var/tmp",
        "var/spool",
        "dev",
        "proc",
        "sys",
        "run",
        "tmp",
        "root",
        "home",
        "srv",
        "mnt",
        "opt",
        "media",
    ):
        (template / name).mkdir(parents=True, exist_ok=True)
    (template / "tmp").chmod(0o1777)
    (template / "var/tmp").chmod(0o1777)
    (template / "root").chmod(0o700)
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        link = rootfs / name
        if link.is_symlink():
            (template / name).symlink_to(os.readlink(link))
    _mask(etc / "systemd/system", recipe.masked_container_units)
    _mask(etc / "systemd/system-generators", recipe.masked_container_generators)


def _mask(directory: Path, names: Sequence[str]) -> None:
    """Mask units (or generators) by a symlink to /dev/null in ``directory`` of some /etc."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).unlink(missing_ok=True)
        (directory / name).symlink_to("/dev/null")


def _configure_host(rootfs: Path, recipe: Recipe) -> None:
    etc = rootfs / "etc"
    (etc / "hostname").write_text(f"{recipe.hostname}\n")
    (etc / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {recipe.hostname}\n")
    (etc / "fstab").write_text("/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
    dropin = etc / "systemd/system/serial-getty@ttyS0.service.d"
    dropin.mkdir(parents=True)
    (dropin / "autologin.conf").write_text(AUTOLOGIN_DROPIN)
    _mask(etc / "systemd/system", recipe.masked_units)
    (etc / "systemd/nspawn").mkdir(exist_ok=True)
    (rootfs / "var/lib/machines").mkdir(parents=True, exist_ok=True)
    for leftover in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        leftover.unlink()
    for leftover in (rootfs / "var/lib/apt/lists").glob("*_*"):
        leftover.unlink()


@contextmanager
def _phase(name: str, progress: Report) -> Iterator[None]:
    started = time.monotonic()
    progress(f"[vm-image] {name} ...")
    yield
    progress(f"[vm-image] {name} done in {time.monotonic() - started:.1f}s")


def _single(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        raise ImageBuildError(f"expected exactly one {directory}/{pattern}, found {found}")
    return found[0]


def _chroot(rootfs: Path, *argv: str, timeout: float = 120) -> None:
    _run(["chroot", str(rootfs), *argv], timeout=timeout)


def _apt_install(rootfs: Path, packages: Sequence[str]) -> None:
    """apt-get in the new root, with the build machine's name resolution for the download (the
    root's own resolv.conf, if debootstrap left one, is put back afterwards)."""
    resolv = rootfs / "etc/resolv.conf"
    kept = resolv.read_bytes() if resolv.is_file() and not resolv.is_symlink() else None
    resolv.unlink(missing_ok=True)
    shutil.copyfile("/etc/resolv.conf", resolv)
    try:
        _chroot(rootfs, "apt-get", "update", "-q", timeout=600)
        _chroot(
            rootfs,
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            *packages,
            timeout=1200,
        )
        _chroot(rootfs, "apt-get", "clean")
    finally:
        resolv.unlink()
        if kept is not None:
            resolv.write_bytes(kept)


def _run(argv: Sequence[str], *, timeout: float) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ImageBuildError(
            f"`{' '.join(argv)}` failed with exit code {result.returncode}:\n"
            f"{(result.stdout + result.stderr)[-3000:]}"
        )


def _run_streaming(argv: Sequence[str], progress: Report, *, timeout: float) -> None:
    """Run a long command; report its latest ``I:`` line every 15 s so the wait is visible."""
    started = time.monotonic()
    tail: list[str] = []
    latest = ["(starting)"]
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(15):
            progress(f"[vm-image]   {time.monotonic() - started:4.0f}s {latest[0]}")

    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        ticker = threading.Thread(target=heartbeat, daemon=True)
        ticker.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail = [*tail[-40:], line.rstrip()]
                if line.startswith("I: "):
                    latest[0] = line[3:].strip()
                if time.monotonic() - started > timeout:
                    proc.kill()
                    raise ImageBuildError(f"`{argv[0]}` timed out after {timeout:.0f}s")
            code = proc.wait()
        finally:
            done.set()
            ticker.join()
    if code != 0:
        raise ImageBuildError(
            f"`{' '.join(argv)}` failed with exit code {code}:\n" + "\n".join(tail)
        )


def main() -> int:
    """``python -m support.vm.image``: build or find the image and print its directory."""
    try:
        image = ensure_image()
    except ImageBuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(image.root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
