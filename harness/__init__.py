"""nixos-nspawn's scenario harness.

This top-level package must stay importable with the standard library alone: it is shipped,
together with :mod:`harness.checks`, into the NixOS test driver (see ``nix/checks-package.nix``).
Everything that needs third-party packages (jinja2, pytest, pexpect) lives in submodules.
"""
