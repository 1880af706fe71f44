"""Rendering to Nix: a validated scenario becomes a NixOS test module (``nix/tests/<name>.nix``),
every value through one escaping module; also the generated check reference."""
