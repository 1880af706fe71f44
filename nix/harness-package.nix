# The harness (`python -m harness`, the pytest plugin behind `pytest scenarios/`) as a Python
# package, built from this repository's pyproject.toml. A downstream flake puts it into its
# development shell: `pkgs.python3.withPackages (_: [ nixos-nspawn.packages.${system}.harness ])`.
{ lib, python3Packages }:
let
  inherit (lib.importTOML ../pyproject.toml) project;
in
python3Packages.buildPythonPackage {
  pname = project.name;
  inherit (project) version;
  pyproject = true;

  # What the wheel is built from: the metadata files and harness/ (no tests, no templates, no
  # bytecode of a developer's checkout).
  src = builtins.path {
    name = "nixos-nspawn-harness-src";
    path = ../.;
    filter =
      path: _type:
      let
        relative = lib.removePrefix "${toString ../.}/" (toString path);
      in
      lib.elem relative [
        "pyproject.toml"
        "README.md"
        "LICENSE"
        "harness"
      ]
      || lib.hasPrefix "harness/" relative && baseNameOf path != "__pycache__";
  };

  build-system = [ python3Packages.setuptools ];
  dependencies = with python3Packages; [
    pytest
    pexpect
    pytest-xdist
    jinja2
  ];

  pythonImportsCheck = [
    "harness.cli"
    "harness.plugin"
  ];

  meta = {
    inherit (project) description;
    license = lib.licenses.mit;
  };
}
