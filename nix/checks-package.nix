# The harness' check library (harness/checks, standard library only) as a Python package, for
# the NixOS test driver's `extraPythonPackages`. Usage: `callPackage ./checks-package.nix { }`
# gives a function from a Python package set to the package.
{ runCommand }:
python3Packages:
let
  # Only the sources: a developer's __pycache__ would make the package differ between checkouts.
  checks = builtins.path {
    name = "nixos-nspawn-harness-checks-src";
    path = ../harness/checks;
    filter = path: _type: baseNameOf path != "__pycache__";
  };
in
python3Packages.toPythonModule (
  runCommand "nixos-nspawn-harness-checks" { } ''
    dest=$out/${python3Packages.python.sitePackages}/harness
    mkdir -p "$dest"
    cp ${../harness/__init__.py} "$dest/__init__.py"
    cp ${../harness/py.typed} "$dest/py.typed"
    cp -r ${checks} "$dest/checks"
  ''
)
