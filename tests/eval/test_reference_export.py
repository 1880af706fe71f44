"""The committed unit settings in tests/reference/ are exactly what the module produces.

Regenerate with `python tests/eval/export_reference.py` after changing the module or a case.
"""

import json
from pathlib import Path

import pytest
from nspawn_eval import (
    REFERENCE_DIR,
    evaluate,
    reference_cases,
    reference_path,
    reference_text,
    report,
)
from options_doc import NO_DEFAULT, OPTIONS_DOC, render

pytestmark = pytest.mark.eval

REGENERATE = "regenerate with `python tests/eval/export_reference.py`"


def test_reference_files_are_exactly_the_reference_cases(nixpkgs_lib: Path) -> None:
    committed = {path.stem for path in REFERENCE_DIR.glob("*.json")}
    assert committed == set(reference_cases(nixpkgs_lib)), REGENERATE


def test_reference_files_are_fresh(nixpkgs_lib: Path) -> None:
    def fresh(case: str) -> bool:
        path = reference_path(case)
        produced = reference_text(report(nixpkgs_lib, case)["reference"])
        return path.is_file() and path.read_text() == produced

    stale = [case for case in reference_cases(nixpkgs_lib) if not fresh(case)]
    assert not stale, f"stale reference files {stale}: {REGENERATE}"


def test_runtime_pair_reference_has_the_agreed_shape() -> None:
    data = json.loads(reference_path("runtime-pair").read_text())
    assert set(data) >= {
        "case",
        "description",
        "nspawn",
        "hostNetworks",
        "hostNetdevs",
        "containerNetworks",
    }
    assert data["case"] == "runtime-pair"
    assert set(data["nspawn"]) == {"alpha", "beta"}
    assert data["nspawn"]["alpha"]["filesConfig"]["Bind"] == [
        "/srv/alpha:/var/lib/alpha:idmap",
        "/srv/odd\\:dir\\\\x:/var/lib/odd\\:dir\\\\x:idmap",
    ]
    assert "Zone" not in data["nspawn"]["alpha"]["networkConfig"]
    assert data["nspawn"]["beta"]["networkConfig"]["Zone"] == "lab"
    assert set(data["hostNetworks"]) == {"10-ve-alpha", "10-vz-lab"}
    assert set(data["containerNetworks"]) == {"alpha", "beta"}


def test_stale_detection_notices_a_changed_value(nixpkgs_lib: Path) -> None:
    """The freshness comparison is sensitive to a single changed value."""
    produced = report(nixpkgs_lib, "runtime-pair")["reference"]
    tampered = json.loads(json.dumps(produced))
    tampered["nspawn"]["alpha"]["execConfig"]["Ephemeral"] = False
    assert reference_text(tampered) != reference_text(produced)


def test_options_doc_is_fresh(nixpkgs_lib: Path) -> None:
    assert OPTIONS_DOC.is_file(), REGENERATE
    assert OPTIONS_DOC.read_text() == render(nixpkgs_lib), f"docs/options.md is stale: {REGENERATE}"


def test_every_option_has_type_default_example_and_description(nixpkgs_lib: Path) -> None:
    docs = evaluate(nixpkgs_lib, "optionDocs")
    options = docs["host"] + docs["container"]
    names = {doc["name"] for doc in options}
    assert {
        "nixos-nspawn.imports",
        "nixos-nspawn.containers.<name>.path",
        "nixos-nspawn.containers.<name>.binds.<containerPath>.options",
        "nixos-nspawn.containers.<name>.network.veth.config.container",
        "nixos-nspawn.isContainer",
    } <= names
    for doc in options:
        assert doc["type"], doc["name"]
        assert doc["description"].strip(), doc["name"]
        assert "example" in doc, doc["name"]
        assert "default" in doc or doc["name"] in NO_DEFAULT, doc["name"]
