"""harness.loader: valid files load into dataclasses; every kind of error names file, key, line."""

from pathlib import Path

import pytest

from harness.escape import NixCode
from harness.loader import format_key, load_scenario
from harness.scenario import ScenarioError, ValidationError

VALID = '''\
description = "two containers"
timeout = 900

[host]
config = "{ pkgs, ... }: { environment.systemPackages = [ pkgs.curl ]; }"

[containers.web]
config = "{ services.nginx.enable = true; }"
autoStart = true
binds."/var/lib/web" = { hostPath = "/srv/web", readOnly = false, options = ["idmap"] }
network.veth.config.host.networkConfig = { DHCPServer = false, Address = ["192.168.42.1/24"] }

[containers.db]
path = "/nix/store/aaaa-nixos-system"
restartIfChanged = false
network.veth.zone = "lab"

[[expect]]
check = "reachable"
to = "web"

[[expect]]
check = "reachable"
to = "web"

[[expect]]
check = "userns"
container = "db"
'''


def write(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(tmp_path: Path, text: str, name: str = "case.toml") -> tuple[ValidationError, ...]:
    path = write(tmp_path, text, name)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    for error in caught.value.errors:
        assert error.path == path
    return caught.value.errors


def one_error(tmp_path: Path, text: str, key: str, line: int, *words: str) -> ValidationError:
    """Exactly one error, at ``key`` on ``line``, whose message contains ``words``."""
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, "\n".join(map(str, errors))
    (error,) = errors
    assert (error.key, error.line) == (key, line), str(error)
    rendered = str(error)
    assert rendered.startswith(f"{error.path}:{line}: {key}: ")
    for word in words:
        assert word in rendered
    return error


def test_valid_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID, "two-web.toml"))
    assert scenario.name == "two-web"
    assert scenario.timeout == 900
    assert scenario.host.config == NixCode(
        "{ pkgs, ... }: { environment.systemPackages = [ pkgs.curl ]; }"
    )
    web, db = scenario.containers
    assert (web.name, web.auto_start, db.restart_if_changed) == ("web", True, False)
    assert web.binds[0].path == "/var/lib/web"
    assert web.binds[0].options == ("idmap",)
    assert web.veth.host_config == {
        "networkConfig": {"DHCPServer": False, "Address": ["192.168.42.1/24"]}
    }
    assert db.path == "/nix/store/aaaa-nixos-system"
    assert db.veth.zone == "lab"
    ids = [e.id for e in scenario.expectations]
    assert ids == ["reachable[host->web,ipv4]", "reachable[host->web,ipv4]#2", "userns[db]"]
    assert [e.line for e in scenario.expectations] == [18, 22, 26]
    assert scenario.expectations[0].params["family"] == "ipv4"  # defaults filled in


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    text = VALID.replace("timeout = 900", "timout = 900")
    one_error(tmp_path, text, "timout", 2, "unknown key", "did you mean 'timeout'")


def test_unknown_container_key_suggests(tmp_path: Path) -> None:
    text = VALID.replace("autoStart = true", "autostart = true")
    one_error(tmp_path, text, "containers.web.autostart", 9, "did you mean 'autoStart'")


def test_unknown_nested_key_in_inline_table(tmp_path: Path) -> None:
    text = VALID.replace("readOnly = false", "readonly = false")
    one_error(tmp_path, text, 'containers.web.binds."/var/lib/web".readonly', 10,
              "did you mean 'readOnly'")


def test_wrong_type(tmp_path: Path) -> None:
    text = VALID.replace('restartIfChanged = false', 'restartIfChanged = "no"')
    one_error(tmp_path, text, "containers.db.restartIfChanged", 15, "expected a boolean",
              "string 'no'")


def test_boolean_is_not_an_integer(tmp_path: Path) -> None:
    one_error(tmp_path, VALID.replace("timeout = 900", "timeout = true"), "timeout", 2,
              "expected an integer")


def test_missing_required_description(tmp_path: Path) -> None:
    one_error(tmp_path, VALID.replace('description = "two containers"\n', ""), "description",
              1, "required key is missing")


def test_missing_check_points_at_the_expect_table(tmp_path: Path) -> None:
    text = VALID.replace('check = "userns"\n', "")
    one_error(tmp_path, text, "expect[2].check", 26, "required key is missing")


def test_missing_required_check_parameter(tmp_path: Path) -> None:
    text = VALID.replace('check = "reachable"\nto = "web"\n\n[[expect]]\ncheck = "userns"',
                         'check = "reachable"\n\n[[expect]]\ncheck = "userns"')
    one_error(tmp_path, text, "expect[1].to", 22, "required")


def test_unknown_check_suggests(tmp_path: Path) -> None:
    one_error(tmp_path, VALID.replace('"userns"', '"usrens"'), "expect[2].check", 27,
              "unknown check 'usrens'", "did you mean 'userns'")


def test_unknown_check_parameter_suggests(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'containr = "db"\ncontainer = "db"')
    one_error(tmp_path, text, "expect[2].containr", 28, "unknown parameter",
              "did you mean 'container'")


def test_check_parameter_choices(tmp_path: Path) -> None:
    text = VALID.replace('check = "reachable"\nto = "web"\n\n[[expect]]\ncheck = "userns"',
                         'check = "reachable"\nto = "web"\nfamily = "ipv5"\n\n[[expect]]\n'
                         'check = "userns"')
    one_error(tmp_path, text, "expect[1].family", 25, "'ipv5'", "'ipv4'")


def test_check_parameter_rule(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'container = "host"')
    one_error(tmp_path, text, "expect[2].container", 28, "not the host")


def test_expectation_naming_unknown_container(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'container = "dbb"')
    one_error(tmp_path, text, "expect[2].container", 28, "unknown node 'dbb'",
              "did you mean 'db'")


def test_container_name_too_long_for_interface(tmp_path: Path) -> None:
    text = VALID.replace("[containers.db]", "[containers.database-server]").replace(
        'container = "db"', 'container = "database-server"')
    one_error(tmp_path, text, "containers.database-server", 13, "ve-database-server",
              "15 characters")


def test_zone_name_too_long_for_interface(tmp_path: Path) -> None:
    text = VALID.replace('zone = "lab"', 'zone = "laboratory-12"')
    one_error(tmp_path, text, "containers.db.network.veth.zone", 16, "vz-laboratory-12",
              "at most 12")


def test_container_name_with_invalid_characters(tmp_path: Path) -> None:
    text = VALID.replace("[containers.web]", '[containers."w_b"]').replace(
        'to = "web"', 'to = "w_b"')
    one_error(tmp_path, text, 'containers.w_b', 7, "invalid container name")


def test_container_named_host(tmp_path: Path) -> None:
    text = VALID.replace("[containers.db]", "[containers.host]").replace(
        'container = "db"', 'container = "web"')
    one_error(tmp_path, text, "containers.host", 13, "'host' names the VM")


def test_zone_without_veth(tmp_path: Path) -> None:
    text = VALID.replace('network.veth.zone = "lab"',
                         'network.veth.zone = "lab"\nnetwork.veth.enable = false')
    one_error(tmp_path, text, "containers.db.network.veth.zone", 16, "needs the veth link")


def test_relative_bind_path(tmp_path: Path) -> None:
    text = VALID.replace('binds."/var/lib/web"', 'binds."var/lib/web"')
    one_error(tmp_path, text, 'containers.web.binds."var/lib/web"', 10, "absolute path")


def test_unsupported_value_in_network_settings(tmp_path: Path) -> None:
    text = VALID.replace("DHCPServer = false", "DHCPServer = 1.5")
    one_error(tmp_path, text,
              "containers.web.network.veth.config.host.networkConfig.DHCPServer", 11,
              "unsupported value float 1.5")


def test_nul_in_a_string(tmp_path: Path) -> None:
    text = VALID.replace('hostPath = "/srv/web"', 'hostPath = "/srv/\\u0000web"')
    one_error(tmp_path, text, 'containers.web.binds."/var/lib/web".hostPath', 10, "NUL")


def test_empty_nix_code(tmp_path: Path) -> None:
    text = VALID.replace('config = "{ services.nginx.enable = true; }"', 'config = "  "')
    one_error(tmp_path, text, "containers.web.config", 8, "empty Nix code")


def test_table_expected(tmp_path: Path) -> None:
    one_error(tmp_path, VALID.replace("[host]\nconfig = ", "host = "), "host", 4,
              "expected a table")


def test_no_expectations(tmp_path: Path) -> None:
    text = VALID[: VALID.index("[[expect]]")]
    one_error(tmp_path, text, "expect", 1, "at least one [[expect]]")


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    one_error(tmp_path, VALID.replace("autoStart = true", "autoStart = "), "(syntax)", 9,
              "invalid TOML")


def test_bad_file_name(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, VALID, "bad name.toml")
    assert [(e.key, e.line) for e in errors] == [("(file name)", 1)]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "missing.toml")
    assert caught.value.errors[0].key == "(file)"


def test_all_errors_of_a_file_at_once(tmp_path: Path) -> None:
    text = (VALID.replace("timeout = 900", "timout = 900")
            .replace("autoStart = true", "autoStart = 1")
            .replace('container = "db"', 'container = "nope"'))
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [
        ("timout", 2), ("containers.web.autoStart", 9), ("expect[2].container", 28),
    ]
    message = str(ScenarioError(errors))
    assert message.count("case.toml:") == 3


@pytest.mark.parametrize(("path", "text"), [
    (("containers", "web", "binds", "/var/lib/web"), 'containers.web.binds."/var/lib/web"'),
    (("expect", 2, "to"), "expect[2].to"),
    ((), "(document)"),
])
def test_format_key(path: tuple[str | int, ...], text: str) -> None:
    assert format_key(path) == text


def test_errors_come_in_file_order(tmp_path: Path) -> None:
    text = ('description = "x"\n[containers.web]\nconfig = 1\n[host]\nconfig = 2\n'
            '[[expect]]\ncheck = "userns"\ncontainer = "web"\n')
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [("containers.web.config", 3), ("host.config", 5)]
