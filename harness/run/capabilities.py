"""Can this machine run a scenario's NixOS VM test? Probed once per pytest process.

A machine that cannot must *skip* the VM items with the reason, never pass them. Every blocking
reason is reported at once (a user fixing the first should not discover the second an hour later),
except that nothing about nixpkgs can be learnt without ``nix``.

KVM: the NixOS test driver boots a stock NixOS kernel under QEMU. That needs hardware
virtualisation through ``kvm_intel`` or ``kvm_amd``; a ``/dev/kvm`` provided by anything else (for
instance ``kvm_pvm`` in some cloud sandboxes) cannot boot it. Without KVM, QEMU falls back to
TCG, which works but is slow, so it is opt-in (``--nixos-nspawn-allow-tcg``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness import settings
from harness.run.build import NIX_FEATURES, NixOptions, option_args

KVM_DEVICE = Path("/dev/kvm")
SYS_MODULES = Path("/sys/module")
KVM_MODULES = ("kvm_intel", "kvm_amd")
PROBE_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Capabilities:
    """The outcome of the probe: ``skip_reason`` is None when VM tests can run."""

    skip_reason: str | None


def nix_reason() -> str | None:
    if shutil.which("nix") is None:
        return "`nix` not found on PATH (install Nix to build the scenarios' NixOS VM tests)"
    return None


def kvm_reason(device: Path, modules: Path) -> str | None:
    """Why KVM cannot run the test VM, or None."""
    hint = "pass --nixos-nspawn-allow-tcg to run the VM under slow TCG emulation instead"
    if not device.exists():
        return f"no usable KVM: {device} does not exist; {hint}"
    if not any((modules / name).is_dir() for name in KVM_MODULES):
        try:
            loaded = sorted(p.name for p in modules.iterdir() if p.name.startswith("kvm"))
        except OSError:
            loaded = []
        return (
            f"no usable KVM: neither kvm_intel nor kvm_amd is loaded (KVM modules present: "
            f"{', '.join(loaded) or 'none'}), so {device} cannot boot the test VM's kernel; {hint}"
        )
    if not os.access(device, os.R_OK | os.W_OK):
        return f"no usable KVM: {device} is not readable and writable by this user; {hint}"
    return None


def nixpkgs_reason(
    flake_root: Path, system: str, nix_options: NixOptions = (), checks: str | None = None
) -> str | None:
    """Why the flake's nixpkgs input cannot be obtained, or None.

    Evaluating the names of ``checks.<system>`` (``checks``: the attribute set of the flake's
    scenario checks, :meth:`harness.settings.Settings.checks_set`) forces the flake's lock and
    the nixpkgs source (``lib`` comes from it) and nothing else: offline without the source in
    the store, it fails.
    """
    checks = checks if checks is not None else f"checks.{system}"
    argv = [
        "nix",
        *NIX_FEATURES,
        *option_args(nix_options),
        "eval",
        "--json",
        f".#{checks}",
        "--apply",
        "builtins.attrNames",
    ]
    try:
        result = subprocess.run(
            argv,
            cwd=flake_root,
            capture_output=True,
            text=True,
            check=False,
            timeout=PROBE_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return (
            f"nixpkgs not obtainable: `nix eval .#{checks}` in {flake_root} did not "
            f"finish within {PROBE_TIMEOUT_SECONDS:g} s"
        )
    if result.returncode == 0:
        return None
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    detail = (errors or result.stderr.strip().splitlines() or ["no output"])[-1]
    return (
        f"nixpkgs not obtainable (offline, no binary cache?): `nix eval .#{checks}` "
        f"in {flake_root} failed: {detail.strip()}"
    )


def probe(
    flake_root: Path | None, system: str, allow_tcg: bool, nix_options: NixOptions = ()
) -> Capabilities:
    """All reasons this machine cannot run the VM tests of the flake at ``flake_root``."""
    reasons: list[str] = []
    missing_nix = nix_reason()
    if missing_nix is not None:
        reasons.append(missing_nix)
    if not allow_tcg:
        kvm = kvm_reason(KVM_DEVICE, SYS_MODULES)
        if kvm is not None:
            reasons.append(kvm)
    if flake_root is None:
        reasons.append("no flake.nix found above the scenario files")
    elif missing_nix is None:
        try:
            checks = settings.load(flake_root).checks_set(system)
        except settings.SettingsError as error:
            reasons.append(str(error))
            return Capabilities("; ".join(reasons))
        nixpkgs = nixpkgs_reason(flake_root, system, nix_options, checks)
        if nixpkgs is not None:
            reasons.append(nixpkgs)
    return Capabilities("; ".join(reasons) if reasons else None)
