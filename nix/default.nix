# nixos-nspawn for any NixOS system: `imports = [ ./nix ];` (the flake's nixosModules.default).
# Both sides, each inert until used: the host module does nothing without
# `nixos-nspawn.containers` but keep the clean-up of containers it declared before
# (host/lifecycle.nix), the container module nothing without `nixos-nspawn.isContainer`
# (which a prebuilt system for `nixos-nspawn.containers.<name>.path` sets itself).
{
  imports = [
    ./host.nix
    ./container.nix
  ];
}
