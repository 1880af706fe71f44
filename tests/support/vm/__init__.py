"""The runtime tier's Debian host VM: image build, console Machine, and unit-file rendering.

NixOS cannot be built on the machines this project is developed on, so the checks are proven on
a Debian bookworm systemd host instead (see "Test tiers" in docs/architecture.md). This
package needs ``pexpect`` (console) and root plus ``debootstrap``/``mke2fs`` (image); the checks
themselves (:mod:`harness.checks`) do not depend on it.
"""
