# nixos-nspawn for a NixOS host: `imports = [ ./nix ];` (the flake's nixosModules.default).
{
  imports = [ ./host.nix ];
}
