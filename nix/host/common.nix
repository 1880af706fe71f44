# What nix/host.nix and the feature modules beside it (nix/host/*.nix) share: which containers
# are run, where their settings live, and the checks of the interface names they write.
{ lib }:
let
  inherit (import ../unit-values.nix { inherit lib; }) showValue;
in
rec {
  # Containers that can be run: a toplevel is known (from `config` or `path`). The others only
  # produce the assertion that explains what is missing.
  runnable = lib.filterAttrs (_: c: c.path != null);

  # A systemd-tmpfiles entry for a directory owned by root, mode 0755 (a container's root, and
  # what must exist in it before a start).
  rootDirectory = {
    d = {
      user = "root";
      group = "root";
      mode = "0755";
    };
  };

  # A container or zone name: a host name label's characters (letters, digits and `-`, not at
  # either end).
  isValidName = name: builtins.match "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?" name != null;

  # A container without a network namespace of its own: it shares the host's or joins one
  # (./network.nix). What needs the veth link is checked there for these containers.
  sharesNetwork = c: !c.network.private || c.network.namespace != null;

  # The option path of a container, for assertion messages.
  where = name: "nixos-nspawn.containers.${name}";

  # The unit that runs a container (systemd's own template instance; host.nix adds a drop-in).
  service = name: "systemd-nspawn@${name}";

  # Interface names are limited to 15 characters (IFNAMSIZ - 1).
  maxInterfaceName = 15;

  # Why `ifname` cannot name a host or container interface here, or null. Linux takes any
  # printable character but `/`, `:` and whitespace; this module takes letters, digits, `_`,
  # `-` and `.` (not first), which every unit file, nspawn's space-separated lists and
  # systemd's unit name escaping take as they are (only `-` becomes `\x2d` in a unit name).
  interfaceNameProblem =
    ifname:
    if builtins.match "[A-Za-z0-9_-][A-Za-z0-9_.-]*" ifname == null then
      "is not an interface name this module writes: use letters, digits, `_`, `-` and `.` (not first)"
    else if builtins.match "[0-9]+" ifname != null then
      "is only digits, which Linux takes for an interface index"
    else if lib.stringLength ifname > maxInterfaceName then
      "has ${toString (lib.stringLength ifname)} characters, but Linux allows at most ${toString maxInterfaceName} in an interface name"
    else
      null;

  # The failed assertion for interface name `ifname` set at option path `at`, if any. (The
  # characters it takes cannot break a unit file line either.)
  checkInterfaceName =
    at: ifname:
    let
      problem = interfaceNameProblem ifname;
    in
    lib.optional (problem != null) {
      assertion = false;
      message = "${at}: ${showValue ifname} ${problem}.";
    };

  # The device unit of a network interface, `sys-subsystem-net-devices-<name>.device`: the
  # name escaped as systemd escapes a path component (utils.escapeSystemdPath in nixpkgs). For
  # the names `checkInterfaceName` accepts, that only writes `-` as `\x2d`.
  interfaceDevice =
    ifname: "sys-subsystem-net-devices-${lib.replaceStrings [ "-" ] [ "\\x2d" ] ifname}.device";
}
