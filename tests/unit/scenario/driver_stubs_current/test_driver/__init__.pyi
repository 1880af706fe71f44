# Type stubs of the NixOS test driver's package (nixpkgs nixos/lib/test-driver/src/test_driver),
# only as far as generated testScripts use it; see test_typecheck.py.
