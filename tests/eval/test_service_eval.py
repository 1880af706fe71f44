"""Credentials, `serviceConfig` and `extraFlags`: what reaches systemd-nspawn@<name>.service.

nix/host/credentials.nix and nix/host/service.nix evaluated by nixpkgs' real module system (see
test_module_eval.py); the expected values are written out by hand.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from expected import CONTROL, SERVICE_DEFAULTS
from nspawn_eval import NixEvalError, evaluate

pytestmark = pytest.mark.eval

REFERENCES = Path(__file__).parents[1] / "reference"
SYSTEMD = "/nix/store/22222222222222222222222222222222-systemd-258"
# systemd's units/systemd-nspawn@.service.in, `ExecStart=` (the binary is NixOS' systemd).
UPSTREAM = (
    f"{SYSTEMD}/bin/systemd-nspawn --quiet --keep-unit --boot --link-journal=try-guest "
    "--network-veth -U --settings=override --machine=%i"
)
# No character that an escape would change: found verbatim wherever it is written.
SECRET = "correct-horse-battery-staple-7f3a"


def test_credentials_limits_and_flags_reach_the_unit(run) -> None:
    service = run("credentials")["reference"]["serviceOverrides"]["vault"]
    assert (
        service
        == {
            "ExecStart": [
                "",
                UPSTREAM + ' "--load-credential=app.conf:app.conf"'
                ' "--load-credential=db-password:db-password"'
                # quoted for the Exec line: %% and $$ are literal, \" and \\ are C escapes
                ' "--setenv=GREETING=50%% of $$HOME \\"quoted\\" \\\\ back"',
            ],
            "LoadCredential": ["db-password:/run/secrets/db-password"],
            # C escapes (spaces too: systemd strips them at the end of a line); no specifiers here
            "SetCredential": [
                "app.conf:line\\x20one\\x0a\\x09indented\\x2050%\\x20of\\x20$HOME\\x20\\\\\\x20"
                '"quoted"\\x20\\x0a'
            ],
            "MemoryMax": "256M",
            "TasksMax": 512,
        }
        | SERVICE_DEFAULTS
    )


def test_the_unit_keeps_the_template_line_unless_something_is_added(run) -> None:
    # Without credentials or extra flags, the upstream template's ExecStart= stays untouched.
    assert "ExecStart" not in run("seed-simple")["reference"]["serviceOverrides"]["mycontainer"]


def test_service_config_wins_over_the_module_default_and_percent_is_escaped(run) -> None:
    service = run("service-override")["reference"]["serviceOverrides"]["slow"]
    assert service["TimeoutStartSec"] == "15min"
    # LoadCredential= expands specifiers in the path
    assert service["LoadCredential"] == ["token:/run/keys/50%%/token"]
    assert service["ExecStart"] == ["", UPSTREAM + ' "--load-credential=token:token"']


def test_every_container_gets_the_unified_cgroup_hierarchy() -> None:
    # Its root holds no systemd for systemd-nspawn to detect: without the variable, nspawn
    # before 257 would mount cgroup v1 for it, which systemd 256 and later refuse to boot on.
    references = sorted(REFERENCES.glob("*.json"))
    assert references
    for path in references:
        reference = json.loads(path.read_text())
        assert set(reference["serviceEnvironment"]) == set(reference["nspawn"]), path.name
        for name, environment in reference["serviceEnvironment"].items():
            if reference["case"] != "service-override":
                assert environment == {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}, (path.name, name)


def test_a_users_environment_merges_with_and_wins_over_the_modules(run) -> None:
    assert run("service-override")["reference"]["serviceEnvironment"]["slow"] == {
        "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "0",
        "SYSTEMD_LOG_LEVEL": "debug",
    }


def test_credentials_leave_the_nspawn_file_alone(run) -> None:
    # .nspawn files have no credential settings: everything goes through the service.
    def without_identity(unit: dict[str, Any]) -> dict[str, Any]:
        copy = json.loads(json.dumps(unit))
        for key in ("Parameters", "MachineID"):
            del copy["execConfig"][key]
        return copy

    assert without_identity(run("credentials")["reference"]["nspawn"]["vault"]) == (
        without_identity(run("seed-simple")["reference"]["nspawn"]["mycontainer"])
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


STORE_PATH = re.compile(r"/nix/store/[0-9a-z]{32}-[^/\s\"']+")


def _leaks(data: dict[str, Any], secret: str) -> list[str]:
    """Where the secret is in what the module produced: in a value itself, or in a store path
    named there that exists (evaluation copies a Nix path into the store)."""
    strings = set(_strings(data))
    found = {f"value {s[:80]!r}" for s in strings if secret in s}
    for path in {m.group(0) for s in strings for m in STORE_PATH.finditer(s)}:
        root = Path(path)
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        found |= {f"store file {f}" for f in files if secret.encode() in f.read_bytes()}
    return sorted(found)


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "db-password"
    path.write_text(SECRET)
    path.chmod(0o400)
    return path


def test_a_file_credential_never_enters_the_store(nixpkgs_lib: Path, tmp_path: Path) -> None:
    secret_file = _secret_file(tmp_path)
    data = evaluate(nixpkgs_lib, None, "credentials", credential_file=secret_file, read_write=True)
    assert data["failedAssertions"] == []
    assert _leaks(data, SECRET) == []
    # referenced by its path only
    assert data["reference"]["serviceOverrides"]["vault"]["LoadCredential"] == [
        f"db-password:{secret_file}"
    ]


def test_the_leak_check_finds_a_secret_written_into_a_value(
    nixpkgs_lib: Path, tmp_path: Path
) -> None:
    # The check above can fail: read into a text credential, the secret is in the unit file.
    data = evaluate(
        nixpkgs_lib,
        None,
        "credential-read-into-text",
        credential_file=_secret_file(tmp_path),
        read_write=True,
    )
    assert _leaks(data, SECRET) == [f"value {'db-password:' + SECRET!r}"]


def test_the_leak_check_finds_a_secret_copied_into_the_store(
    nixpkgs_lib: Path, tmp_path: Path
) -> None:
    # ... and a file Nix copied into the store, named in the settings by its store path only.
    data = evaluate(
        nixpkgs_lib,
        None,
        "credential-copied-into-store",
        credential_file=_secret_file(tmp_path),
        read_write=True,
    )
    [loaded] = data["reference"]["serviceOverrides"]["vault"]["LoadCredential"]
    copy = loaded.removeprefix("db-password:")
    assert copy.startswith("/nix/store/")
    assert _leaks(data, SECRET) == [f"store file {copy}"]


def test_a_nix_path_is_refused_as_a_file_credential(nixpkgs_lib: Path, tmp_path: Path) -> None:
    with pytest.raises(
        NixEvalError, match="is not of type `null or absolute path not in the Nix store'"
    ):
        evaluate(
            nixpkgs_lib,
            "failedAssertions",
            "credential-nix-path",
            credential_file=_secret_file(tmp_path),
        )


VAULT = "nixos-nspawn.containers.vault"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "credential-both",
            f"{VAULT}.credentials.db-password: set exactly one of `file` (a host file, read when "
            "the container starts) and `text` (stored in the Nix store).",
        ),
        (
            "credential-bad-id",
            f'{VAULT}.credentials."db:password": the credential ID "db:password" is not valid: use '
            "letters, digits and `_`, `.`, `@`, `+`, `-` (not `.`, `@`, `+` or `-` first), at most "
            "255 characters.",
        ),
        (
            "credential-path-newline",
            f'{VAULT}.credentials.db-password.file: "/run/secrets/x\\nExecStartPre=/bin/evil" '
            f"contains the control character U+000A, {CONTROL}",
        ),
        (
            "service-exec-start",
            "nixos-nspawn.containers.web.serviceConfig.ExecStart: the module writes the unit's "
            "`ExecStart=` itself (systemd's own command line, plus credentials and `extraFlags`): "
            "give further systemd-nspawn options in `extraFlags`.",
        ),
        (
            "service-bad-key",
            'nixos-nspawn.containers.web.serviceConfig."MemoryMax=1G\\nExecStartPre": the key '
            '"MemoryMax=1G\\nExecStartPre" is not a systemd setting name (it is written into the '
            "unit file as it is): use letters, digits and `-`, starting with a letter.",
        ),
        (
            "service-bad-value",
            'nixos-nspawn.containers.web.serviceConfig.MemoryMax: "1G\\nExecStartPre=/bin/evil" '
            f"contains the control character U+000A, {CONTROL}",
        ),
        (
            "flag-control-character",
            'nixos-nspawn.containers.web.extraFlags[0]: "--setenv=X=\\u007f" contains the control '
            f"character U+007F, {CONTROL}",
        ),
    ],
)
def test_values_that_cannot_be_written_fail_one_clear_assertion(
    nixpkgs_lib: Path, case: str, message: str
) -> None:
    assert evaluate(nixpkgs_lib, "failedAssertions", case) == [message]
