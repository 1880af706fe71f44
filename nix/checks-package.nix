# The harness' check library (harness/checks, standard library only) as a Python package, for
# the NixOS test driver's `extraPythonPackages`. Usage: `callPackage ./checks-package.nix { }`
# gives a function from a Python package set to the package.
{ runCommand }:
python3Packages:
python3Packages.toPythonModule (
  runCommand "nixos-nspawn-harness-checks" { } ''
    dest=$out/${python3Packages.python.sitePackages}/harness
    mkdir -p "$dest"
    cp ${../harness/__init__.py} "$dest/__init__.py"
    cp ${../harness/py.typed} "$dest/py.typed"
    cp -r ${../harness/checks} "$dest/checks"
  ''
)
