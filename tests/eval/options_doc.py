"""Render docs/options.md: the option reference, from the modules' own option declarations.

The data comes from harness.nix (``optionDocs``: nixpkgs' ``optionAttrSetToDocList``, the same
list NixOS' manual is built from) and from the ``seed-simple`` case (the settings the module
produces for a plain container), so the reference cannot drift from the module unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nspawn_eval import ROOT, evaluate, report

OPTIONS_DOC = ROOT / "docs" / "options.md"
REGENERATE = "python tests/eval/export_reference.py"

# nixpkgs' Markdown roles ({option}`x`, {manpage}`x(1)`) are not GitHub Markdown.
_ROLE = re.compile(r"\{(?:option|manpage|file|command|var|env)\}(`[^`]*`)")


def _prose(text: str) -> str:
    return _ROLE.sub(r"\1", text).strip()


def _value(rendered: Mapping[str, Any] | None) -> str:
    """A default or example as the manual shows it: Markdown (`literalMD`) as prose, Nix inline
    when short, else a nix block."""
    if rendered is None:
        return "none"
    text = str(rendered["text"]).strip()
    if rendered.get("_type") == "literalMD":
        return _prose(text)
    if "\n" in text:
        return f"\n\n  ```nix\n{_indent(text, '  ')}\n  ```"
    return f"`{text}`"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


# The options without a default: like NixOS' `containers.<name>.config`, `config`'s being defined
# is what sets `path`; the others are required parts of a list entry.
NO_DEFAULT = {
    "nixos-nspawn.containers.<name>.config": "none: set this or `path`",
    "nixos-nspawn.containers.<name>.forwardPorts.*.hostPort": "none: required",
    "nixos-nspawn.containers.<name>.devices.*.node": "none: required",
}


def _field(label: str, rendered: str) -> str:
    return f"- {label}:{rendered}" if rendered.startswith("\n") else f"- {label}: {rendered}"


def _option(doc: Mapping[str, Any]) -> str:
    name = str(doc["name"])
    default = doc.get("default")
    lines = [
        f"### `{name}`",
        "",
        _prose(str(doc["description"])),
        "",
        f"- Type: {doc['type']}",
        _field("Default", _value(default) if default is not None else NO_DEFAULT[name]),
        _field("Example", _value(doc.get("example"))),
        "",
    ]
    return "\n".join(lines)


def _ini_value(value: object) -> str:
    """A unit value as NixOS' systemd-lib renders it (booleans as true/false)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _ini(sections: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]) -> str:
    out: list[str] = []
    for key, section in names.items():
        entries = sections.get(key, {})
        out.append(f"[{section}]")
        for name, value in entries.items():
            for item in value if isinstance(value, list) else [value]:
                out.append(f"{name}={_ini_value(item)}")
        out.append("")
    return "\n".join(out).strip()


NSPAWN_SECTIONS = {"execConfig": "Exec", "filesConfig": "Files", "networkConfig": "Network"}
NETWORK_SECTIONS = {"matchConfig": "Match", "networkConfig": "Network", "linkConfig": "Link"}
SERVICE_SECTIONS = {"unit": "Unit", "service": "Service", "install": "Install"}


def _produced(lib: Path) -> str:
    ref = report(lib, "seed-simple")["reference"]
    unit = ref["nspawn"]["mycontainer"]
    host = ref["hostNetworks"]["10-ve-mycontainer"]
    guest = ref["containerNetworks"]["mycontainer"]["10-host0"]
    link_up = ref["containerServices"]["mycontainer"]["nixos-nspawn-host0"]
    install = {"WantedBy": " ".join(link_up["wantedBy"])}
    host_sections = {k: v for k, v in NETWORK_SECTIONS.items() if k in host}
    guest_sections = {k: v for k, v in NETWORK_SECTIONS.items() if k in guest}
    return "\n".join(
        [
            "## What a container gets",
            "",
            "For `nixos-nspawn.containers.mycontainer.config = { };` the module produces these",
            "settings (the store path is the container's system "
            "toplevel). Every network value is a",
            "default that `network.veth.config.host` / `.container` override key by key.",
            "",
            "`/etc/systemd/nspawn/mycontainer.nspawn`:",
            "",
            "```ini",
            _ini(unit, NSPAWN_SECTIONS),
            "```",
            "",
            "Host, `/etc/systemd/network/10-ve-mycontainer.network` (a zone gets one",
            "`10-vz-<zone>.network` for its bridge, with an address pool of /24):",
            "",
            "```ini",
            _ini(host, host_sections),
            "```",
            "",
            "Container, `/etc/systemd/network/10-host0.network`:",
            "",
            "```ini",
            _ini(guest, guest_sections),
            "```",
            "",
            "Container, `/etc/systemd/system/nixos-nspawn-host0.service`: it brings `host0` up",
            "before the container's networkd starts, so that the host's end has its address and",
            "DHCP server before the container's client sends its first request (when both start",
            "at the carrier together, that request can be lost and is resent only seconds later).",
            "`systemd.services.nixos-nspawn-host0.enable = false` in the container turns it off.",
            "",
            "```ini",
            _ini({**link_up, "install": install}, SERVICE_SECTIONS),
            "```",
            "",
        ]
    )


def render(lib: Path) -> str:
    docs = evaluate(lib, "optionDocs")
    parts = [
        "# Option reference",
        "",
        f"<!-- generated from nix/host.nix, nix/host/*.nix and nix/container.nix by `{REGENERATE}`;"
        " do not edit -->",
        "",
        "`nixosModules.default` (`nix/default.nix`) imports both modules; each does nothing until",
        "used, but for the host side's clean-up of containers it declared before (see",
        "[lifecycle.md](lifecycle.md)).",
        "",
        "## Host options (`nix/host.nix` and `nix/host/*.nix`, `nixosModules.host`)",
        "",
        *(_option(doc) for doc in docs["host"]),
        "## Container options (`nix/container.nix`, `nixosModules.container`)",
        "",
        *(_option(doc) for doc in docs["container"]),
        _produced(lib),
    ]
    return "\n".join(parts)
