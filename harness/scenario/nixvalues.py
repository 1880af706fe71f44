"""The Nix-side values a scenario can carry besides plain data: code by design (:class:`NixCode`,
:class:`PrebuiltSystem`) and the bounds of Nix integers. They belong to the model, below both the
loader that makes them and the renderer (:mod:`harness.render.escape`) that writes them."""

from __future__ import annotations

from dataclasses import dataclass

# Nix integers are signed 64 bit; the parser reads a literal before negating it, so the most
# negative value has no literal of its own.
NIX_INT_MIN = -(2**63)
NIX_INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class NixCode:
    """A Nix expression written by the scenario author, evaluated as a file of its own.

    Only fields documented as Nix code (the ``config`` keys: ``[host].config``,
    ``[containers.<n>].config``, ...) become NixCode; the loader never wraps anything else.
    """

    code: str


@dataclass(frozen=True)
class PrebuiltSystem:
    """The toplevel of a NixOS system built from ``module`` (a ``[containers.<n>.path]``
    ``config``), as ``(pkgs.nixos [ nixosModules.default <module> ]).toplevel``: nixpkgs'
    ``pkgs.nixos`` evaluates a system of its own with the host's packages. The expression
    needs ``pkgs`` and ``nixosModules`` in scope; the generated module binds both."""

    module: NixCode
