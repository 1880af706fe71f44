"""A small downstream project (a user's own flake, ``myinfra``) written into a temporary directory
outside this repository, for the tests of the harness in a foreign repository (issue #23)."""

from pathlib import Path

from support.gitrepo import git

WEB_SCENARIO = """\
description = "myinfra's web host with its database container"

[host]
imports = ["../hosts/web.nix"]
modules = ["monitoring"]
config = "{ }"

[nodes.client]
modules = ["monitoring"]

[containers.db]
imports = ["../containers/db.nix"]

[[expect]]
check = "unit-active"
container = "db"

[[expect]]
check = "reachable"
to = "db"
"""

FILES = {
    # Only the CLI and the plugin read this directory; Nix never evaluates this flake.nix here.
    "flake.nix": (
        "{\n"
        '  inputs.nixos-nspawn.url = "github:example/nixos-nspawn";\n'
        "  outputs = { self, nixos-nspawn }: {\n"
        "    nixosModules.monitoring = ./modules/monitoring.nix;\n"
        "  };\n"
        "}\n"
    ),
    "hosts/web.nix": '{ ... }: { networking.hostName = "web"; }\n',
    "containers/db.nix": "{ ... }: { services.postgresql.enable = true; }\n",
    "modules/monitoring.nix": "{ ... }: { services.prometheus.exporters.node.enable = true; }\n",
    "scenarios/web.toml": WEB_SCENARIO,
}

WEB_ITEMS = [
    "scenarios/web.toml::validate-render",
    "scenarios/web.toml::unit-active[db]",
    "scenarios/web.toml::reachable[host->db,ipv4]",
]


def write_project(root: Path, files: dict[str, str] = FILES) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def commit_all(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "myinfra")
