# The machine `web` itself: replace this with what `nixos-generate-config` writes on it
# (hardware-configuration.nix) and its boot loader. Scenarios do not import this file: their
# test VM has its own disks and boot loader, and its nixpkgs is read-only.
{
  nixpkgs.hostPlatform = "x86_64-linux";
  networking.hostName = "web";

  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;
  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  fileSystems."/boot" = {
    device = "/dev/disk/by-label/boot";
    fsType = "vfat";
  };

  # The NixOS release this machine was first installed with; see `man configuration.nix`.
  system.stateVersion = "26.05";
}
