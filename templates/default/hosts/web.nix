# The host `web`: its containers. Everything here is what a scenario boots with
# `modules = [ "web" ]` (flake.nix exports it, with nixos-nspawn's host module, as
# nixosModules.web); what only the real machine has is in web-machine.nix.
{
  nixos-nspawn.containers = {
    # Both containers share the zone `backend`: one bridge on the host, `vz-backend`, with
    # addresses handed out by the host.
    db = {
      config = ../containers/db.nix;
      network.veth.zone = "backend";
    };
    app = {
      config = ../containers/app.nix;
      network.veth.zone = "backend";
    };
  };
}
