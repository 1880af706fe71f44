"""harness.scenario.load: valid files load into dataclasses; every error names file, key, line."""

import json
from pathlib import Path

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.catalogue import rendered
from harness.render.nixos_test import render_scenario
from harness.scenario.load import load_scenario
from harness.scenario.model import ScenarioError, ValidationError
from harness.scenario.nixvalues import NixCode
from harness.scenario.reader import format_key

VALID = """\
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
"""


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
    one_error(
        tmp_path,
        text,
        'containers.web.binds."/var/lib/web".readonly',
        10,
        "did you mean 'readOnly'",
    )


def test_wrong_type(tmp_path: Path) -> None:
    text = VALID.replace("restartIfChanged = false", 'restartIfChanged = "no"')
    one_error(
        tmp_path, text, "containers.db.restartIfChanged", 15, "expected a boolean", "string 'no'"
    )


def test_boolean_is_not_an_integer(tmp_path: Path) -> None:
    one_error(
        tmp_path,
        VALID.replace("timeout = 900", "timeout = true"),
        "timeout",
        2,
        "expected an integer",
    )


def test_missing_required_description(tmp_path: Path) -> None:
    one_error(
        tmp_path,
        VALID.replace('description = "two containers"\n', ""),
        "description",
        1,
        "required key is missing",
    )


def test_missing_check_points_at_the_expect_table(tmp_path: Path) -> None:
    text = VALID.replace('check = "userns"\n', "")
    one_error(tmp_path, text, "expect[2].check", 26, "required key is missing")


def test_a_misspelt_check_key_is_reported_with_the_missing_one(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, VALID.replace('check = "userns"', 'chek = "userns"'))
    assert [(e.key, e.line) for e in errors] == [("expect[2].check", 26), ("expect[2].chek", 27)]
    assert errors[0].message == "required key is missing"
    assert errors[1].message.startswith("unknown key; did you mean 'check'?")


def test_keys_of_no_check_are_reported_when_the_check_is_unknown(tmp_path: Path) -> None:
    text = VALID.replace(
        'check = "userns"\ncontainer = "db"', 'check = "usrens"\ncontainer = "db"\ncontaner = "db"'
    )
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [
        ("expect[2].check", 27),
        ("expect[2].contaner", 29),
    ]
    assert "did you mean 'container'?" in errors[1].message


def test_missing_required_check_parameter(tmp_path: Path) -> None:
    text = VALID.replace(
        'check = "reachable"\nto = "web"\n\n[[expect]]\ncheck = "userns"',
        'check = "reachable"\n\n[[expect]]\ncheck = "userns"',
    )
    one_error(tmp_path, text, "expect[1].to", 22, "required")


def test_unknown_check_suggests(tmp_path: Path) -> None:
    one_error(
        tmp_path,
        VALID.replace('"userns"', '"usrens"'),
        "expect[2].check",
        27,
        "unknown check 'usrens'",
        "did you mean 'userns'",
    )


def test_unknown_check_parameter_suggests(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'containr = "db"\ncontainer = "db"')
    one_error(
        tmp_path, text, "expect[2].containr", 28, "unknown parameter", "did you mean 'container'"
    )


def test_check_parameter_choices(tmp_path: Path) -> None:
    text = VALID.replace(
        'check = "reachable"\nto = "web"\n\n[[expect]]\ncheck = "userns"',
        'check = "reachable"\nto = "web"\nfamily = "ipv5"\n\n[[expect]]\ncheck = "userns"',
    )
    one_error(tmp_path, text, "expect[1].family", 25, "'ipv5'", "'ipv4'")


def test_check_parameter_rule(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'container = "host"')
    one_error(tmp_path, text, "expect[2].container", 28, "not the host")


def test_expectation_naming_unknown_container(tmp_path: Path) -> None:
    text = VALID.replace('container = "db"', 'container = "dbb"')
    one_error(tmp_path, text, "expect[2].container", 28, "unknown node 'dbb'", "did you mean 'db'")


def test_container_name_too_long_for_interface(tmp_path: Path) -> None:
    text = VALID.replace("[containers.db]", "[containers.database-server]").replace(
        'container = "db"', 'container = "database-server"'
    )
    one_error(
        tmp_path, text, "containers.database-server", 13, "ve-database-server", "15 characters"
    )


def test_zone_name_too_long_for_interface(tmp_path: Path) -> None:
    text = VALID.replace('zone = "lab"', 'zone = "laboratory-12"')
    one_error(
        tmp_path, text, "containers.db.network.veth.zone", 16, "vz-laboratory-12", "at most 12"
    )


def test_container_name_with_invalid_characters(tmp_path: Path) -> None:
    text = VALID.replace("[containers.web]", '[containers."w_b"]').replace(
        'to = "web"', 'to = "w_b"'
    )
    one_error(tmp_path, text, "containers.w_b", 7, "invalid container name")


def test_container_named_host(tmp_path: Path) -> None:
    text = VALID.replace("[containers.db]", "[containers.host]").replace(
        'container = "db"', 'container = "web"'
    )
    one_error(tmp_path, text, "containers.host", 13, "'host' names the VM")


def test_zone_without_veth(tmp_path: Path) -> None:
    text = VALID.replace(
        'network.veth.zone = "lab"', 'network.veth.zone = "lab"\nnetwork.veth.enable = false'
    )
    one_error(tmp_path, text, "containers.db.network.veth.zone", 16, "needs the veth link")


def test_relative_bind_path(tmp_path: Path) -> None:
    text = VALID.replace('binds."/var/lib/web"', 'binds."var/lib/web"')
    one_error(tmp_path, text, 'containers.web.binds."var/lib/web"', 10, "absolute path")


def test_unsupported_value_in_network_settings(tmp_path: Path) -> None:
    text = VALID.replace("DHCPServer = false", "DHCPServer = 1.5")
    one_error(
        tmp_path,
        text,
        "containers.web.network.veth.config.host.networkConfig.DHCPServer",
        11,
        "unsupported value float 1.5",
    )


def test_nul_in_a_string(tmp_path: Path) -> None:
    text = VALID.replace('hostPath = "/srv/web"', 'hostPath = "/srv/\\u0000web"')
    one_error(tmp_path, text, 'containers.web.binds."/var/lib/web".hostPath', 10, "NUL")


def test_empty_nix_code(tmp_path: Path) -> None:
    text = VALID.replace('config = "{ services.nginx.enable = true; }"', 'config = "  "')
    one_error(tmp_path, text, "containers.web.config", 8, "empty Nix code")


def test_table_expected(tmp_path: Path) -> None:
    one_error(
        tmp_path, VALID.replace("[host]\nconfig = ", "host = "), "host", 4, "expected a table"
    )


def test_no_expectations(tmp_path: Path) -> None:
    text = VALID[: VALID.index("[[expect]]")]
    one_error(tmp_path, text, "expect", 1, "at least one [[expect]]")


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    one_error(
        tmp_path, VALID.replace("autoStart = true", "autoStart = "), "(syntax)", 9, "invalid TOML"
    )


def test_bad_file_name(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, VALID, "bad name.toml")
    assert [(e.key, e.line) for e in errors] == [("(file name)", 1)]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "missing.toml")
    assert caught.value.errors[0].key == "(file)"


def test_all_errors_of_a_file_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("timeout = 900", "timout = 900")
        .replace("autoStart = true", "autoStart = 1")
        .replace('container = "db"', 'container = "nope"')
    )
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [
        ("timout", 2),
        ("containers.web.autoStart", 9),
        ("expect[2].container", 28),
    ]
    message = str(ScenarioError(errors))
    assert message.count("case.toml:") == 3


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("containers", "web", "binds", "/var/lib/web"), 'containers.web.binds."/var/lib/web"'),
        (("expect", 2, "to"), "expect[2].to"),
        ((), "(document)"),
    ],
)
def test_format_key(path: tuple[str | int, ...], text: str) -> None:
    assert format_key(path) == text


def test_errors_come_in_file_order(tmp_path: Path) -> None:
    text = (
        'description = "x"\n[containers.web]\nconfig = 1\n[host]\nconfig = 2\n'
        '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    )
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [("containers.web.config", 3), ("host.config", 5)]


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("value", ["99999999999999999999", str(INT64_MAX + 1)])
def test_timeout_beyond_nix_integers(tmp_path: Path, value: str) -> None:
    one_error(
        tmp_path,
        VALID.replace("timeout = 900", f"timeout = {value}"),
        "timeout",
        2,
        "does not fit Nix's 64-bit integers",
    )


@pytest.mark.parametrize("value", ["0", "-5", "604801", "2143885", str(INT64_MAX)])
def test_timeout_must_be_positive_and_at_most_a_week(tmp_path: Path, value: str) -> None:
    """2143885 s plus the build margin overflowed epoll's millisecond timeout (issue 10)."""
    one_error(
        tmp_path,
        VALID.replace("timeout = 900", f"timeout = {value}"),
        "timeout",
        2,
        "positive number of seconds up to 604800 (one week)",
    )


def test_timeout_of_a_week_is_accepted(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, VALID.replace("900", "604800"))).timeout == 604800


def test_integers_beyond_nix_in_network_settings(tmp_path: Path) -> None:
    text = VALID.replace(
        "DHCPServer = false",
        f"DHCPServer = false, MTUBytes = {INT64_MAX + 1}, Low = {-INT64_MAX - 1}, "
        f"List = [1, -{INT64_MAX + 2}]",
    )
    errors = errors_of(tmp_path, text)
    settings = "containers.web.network.veth.config.host.networkConfig"
    assert [(e.key, e.line) for e in errors] == [
        (f"{settings}.MTUBytes", 11),
        (f"{settings}.List[1]", 11),
    ]
    assert all("does not fit Nix's 64-bit integers" in e.message for e in errors)


def test_integer_beyond_nix_in_check_parameters(tmp_path: Path) -> None:
    text = VALID.replace(
        'container = "db"',
        'container = "db"\n\n[[expect]]\ncheck = "tcp"\nto = "web"\nport = 99999999999999999999',
    )
    errors = errors_of(tmp_path, text)
    assert {(e.key, e.line) for e in errors} == {("expect[3].port", 33)}
    assert any("does not fit Nix's 64-bit integers" in e.message for e in errors)


def test_nul_in_a_bind_mount_point(tmp_path: Path) -> None:
    text = VALID.replace('binds."/var/lib/web"', 'binds."/var/lib/\\u0000web"')
    one_error(tmp_path, text, 'containers.web.binds."/var/lib/\\u0000web"', 10, "NUL")


def test_nul_in_network_settings_keys_and_strings(tmp_path: Path) -> None:
    text = VALID.replace(
        'DHCPServer = false, Address = ["192.168.42.1/24"]',
        '"DHCP\\u0000Server" = false, Address = ["192.168.42.1/24\\u0000"]',
    )
    errors = errors_of(tmp_path, text)
    settings = "containers.web.network.veth.config.host.networkConfig"
    assert [e.key for e in errors] == [f'{settings}."DHCP\\u0000Server"', f"{settings}.Address[0]"]
    assert all("NUL" in e.message and e.line == 11 for e in errors)


def test_nul_in_a_check_parameter(tmp_path: Path) -> None:
    text = VALID.replace(
        'container = "db"', 'container = "db"\n\n[[expect]]\ncheck = "command"\nrun = "true\\u0000"'
    )
    one_error(tmp_path, text, "expect[3].run", 32, "NUL")


@pytest.mark.parametrize(
    ("check", "key", "value", "ok"),
    [
        ("command", "exit", -1, False),
        ("command", "exit", 0, True),
        ("command", "exit", 255, True),
        ("command", "exit", 256, False),
        ("http", "status", 99, False),
        ("http", "status", 100, True),
        ("http", "status", 599, True),
        ("http", "status", 600, False),
    ],
)
def test_exit_and_status_ranges(tmp_path: Path, check: str, key: str, value: int, ok: bool) -> None:
    params = 'run = "true"' if check == "command" else 'to = "web"'
    text = VALID.replace(
        'container = "db"',
        f'container = "db"\n\n[[expect]]\ncheck = "{check}"\n{params}\n{key} = {value}',
    )
    if ok:
        assert load_scenario(write(tmp_path, text)).expectations[-1].params[key] == value
    else:
        one_error(tmp_path, text, f"expect[3].{key}", 33, "within")


def _toml(value: object) -> str:
    """``value`` as TOML text: basic strings (JSON's escapes, plus DEL), inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }"


_SCALARS = st.integers() | st.text(max_size=8) | st.booleans()
_SETTINGS = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    max_size=4,
)


@given(
    timeout=st.integers(),
    mount=st.text(max_size=8),
    settings=_SETTINGS,
    run=st.text(max_size=8),
    exit=st.integers(),
)
@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_whatever_validates_renders(
    tmp_path: Path, timeout: int, mount: str, settings: dict[str, object], run: str, exit: int
) -> None:
    """Validation is the only gate before rendering: a file either fails with messages, or
    renders without an exception (no NixEscapeError traceback for values the loader let pass)."""
    text = (
        f'description = "x"\ntimeout = {timeout}\n[containers.web]\n'
        f'binds.{_toml("/" + mount)} = {{ hostPath = "/srv" }}\n'
        f"network.veth.config.host.networkConfig = {_toml(settings)}\n"
        f'[[expect]]\ncheck = "command"\non = "web"\nrun = {_toml(run)}\nexit = {exit}\n'
    )
    try:
        scenario = load_scenario(write(tmp_path, text))
    except ScenarioError as error:
        errors = error.errors
    else:
        rendered(tmp_path, scenario)
        return
    assert all(e.key != "(syntax)" for e in errors), "the test wrote invalid TOML"


# --- values bound for unit files, and keys Nix would not take as data -------------------------
# The module writes binds, `path` and the networkd settings into unit files as verbatim
# `Key=value` lines (nix/unit-values.nix checks the same at evaluation).

HOST_SETTINGS = "containers.web.network.veth.config.host"
BIND = 'containers.web.binds."/var/lib/web"'
CONTROL = "which would end or break the line in the unit file"


def test_newline_in_a_bind_host_path(tmp_path: Path) -> None:
    text = VALID.replace(
        'hostPath = "/srv/web"', 'hostPath = "/srv/web\\nPrivateUsers=no\\nBind=/:/host"'
    )
    one_error(tmp_path, text, f"{BIND}.hostPath", 10, "control character U+000A", CONTROL)


def test_lone_carriage_return_in_a_network_value(tmp_path: Path) -> None:
    text = VALID.replace(
        'Address = ["192.168.42.1/24"]', 'Address = ["192.168.42.1/24\\rDNS=192.0.2.1"]'
    )
    one_error(
        tmp_path,
        text,
        f"{HOST_SETTINGS}.networkConfig.Address[0]",
        11,
        "control character U+000D",
        CONTROL,
    )


@pytest.mark.parametrize(
    ("escape", "code"),
    [("\\u0001", "U+0001"), ("\\t", "U+0009"), ("\\u001b", "U+001B"), ("\\u007f", "U+007F")],
)
def test_any_other_control_character_in_a_bind_option(
    tmp_path: Path, escape: str, code: str
) -> None:
    text = VALID.replace('options = ["idmap"]', f'options = ["idmap{escape}"]')
    one_error(tmp_path, text, f"{BIND}.options[0]", 10, f"control character {code}", CONTROL)


def test_trailing_backslash_in_a_network_value(tmp_path: Path) -> None:
    text = VALID.replace('Address = ["192.168.42.1/24"]', 'Address = ["192.168.42.1/24\\\\"]')
    one_error(
        tmp_path,
        text,
        f"{HOST_SETTINGS}.networkConfig.Address[0]",
        11,
        "ends in a backslash",
        "continue the line",
    )


def test_backslashes_in_bind_paths_are_escaped_so_any_number_is_fine(tmp_path: Path) -> None:
    text = VALID.replace(
        'binds."/var/lib/web" = { hostPath = "/srv/web"',
        'binds."/var/lib/web\\\\" = { hostPath = "/srv/a\\\\b:c\\\\\\\\\\\\"',
    )
    (bind,) = load_scenario(write(tmp_path, text)).containers[0].binds
    assert (bind.path, bind.host_path) == ("/var/lib/web\\", "/srv/a\\b:c\\\\\\")


def test_an_even_number_of_trailing_backslashes_ends_no_line(tmp_path: Path) -> None:
    text = VALID.replace('Address = ["192.168.42.1/24"]', 'Address = ["a\\\\\\\\"]')
    settings = load_scenario(write(tmp_path, text)).containers[0].veth.host_config
    assert settings is not None
    assert settings["networkConfig"] == {"DHCPServer": False, "Address": ["a\\\\"]}


@pytest.mark.parametrize("mount", ["/var/lib/web ", " /var/lib/web"])
def test_surrounding_whitespace_in_a_bind_mount_point(tmp_path: Path, mount: str) -> None:
    text = VALID.replace('binds."/var/lib/web"', f'binds."{mount}"')
    errors = errors_of(tmp_path, text)  # " /var/lib/web" is not absolute either
    assert [(e.key, e.line) for e in errors if "systemd strips" in e.message] == [
        (f'containers.web.binds."{mount}"', 10)
    ]


def test_percent_is_data_in_unit_values(tmp_path: Path) -> None:
    # No specifier in .nspawn and .network files: `%` is written as it is.
    text = VALID.replace('hostPath = "/srv/web"', 'hostPath = "/srv/50%"').replace(
        'Address = ["192.168.42.1/24"]', 'DNS = ["192.0.2.53%ve-web"]'
    )
    container = load_scenario(write(tmp_path, text)).containers[0]
    assert container.binds[0].host_path == "/srv/50%"
    assert container.veth.host_config == {
        "networkConfig": {"DHCPServer": False, "DNS": ["192.0.2.53%ve-web"]}
    }


@pytest.mark.parametrize(
    "key",
    ['"Name=eth0 #"', '"Name\\n[Network]\\nAddress"', '"[Network]"', '"#Name"', '"Na me"', '""'],
)
def test_network_key_injection(tmp_path: Path, key: str) -> None:
    text = VALID.replace("DHCPServer = false", f"{key} = false")
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    assert errors[0].key.startswith(f"{HOST_SETTINGS}.networkConfig.")
    assert errors[0].line == 11
    assert "not a networkd setting name" in errors[0].message


def test_network_value_injection(tmp_path: Path) -> None:
    text = VALID.replace(
        "network.veth.config.host.networkConfig",
        'network.veth.config.host.matchConfig.Name = "ve-web\\n[Network]\\nAddress=10.0.0.1/8"\n'
        "network.veth.config.host.networkConfig",
    )
    one_error(
        tmp_path, text, f"{HOST_SETTINGS}.matchConfig.Name", 11, "control character U+000A", CONTROL
    )


def test_control_characters_at_any_depth_of_the_settings(tmp_path: Path) -> None:
    text = VALID.replace(
        "network.veth.config.host.networkConfig",
        'network.veth.config.container.routes = [{ Gateway = "10.0.0.1" }, '
        '{ Destination = ["10.0.0.0/8\\n"] }]\nnetwork.veth.config.host.networkConfig',
    )
    one_error(
        tmp_path,
        text,
        "containers.web.network.veth.config.container.routes[1].Destination[0]",
        11,
        "control character U+000A",
    )


@pytest.mark.parametrize("option", ["norbind,noidmap", "idmap:x"])
def test_bind_option_holding_a_separator(tmp_path: Path, option: str) -> None:
    text = VALID.replace('options = ["idmap"]', f'options = ["norbind", "{option}"]')
    one_error(
        tmp_path, text, f"{BIND}.options[1]", 10, "contains ',' or ':'", "one option per entry"
    )


@pytest.mark.parametrize("path", ["/srv/my system", "/srv/it's", "/srv/x\\n"])
def test_prebuilt_path_that_parameters_would_split(tmp_path: Path, path: str) -> None:
    text = VALID.replace('path = "/nix/store/aaaa-nixos-system"', f'path = "{path}"')
    error = one_error(tmp_path, text, "containers.db.path", 14)
    assert "Parameters=" in error.message or CONTROL in error.message


def test_extra_config_is_raw_unit_text_not_data(tmp_path: Path) -> None:
    text = VALID.replace(
        "network.veth.config.host.networkConfig",
        'network.veth.config.host.extraConfig = "[Link]"\nnetwork.veth.config.host.networkConfig',
    )
    one_error(tmp_path, text, f"{HOST_SETTINGS}.extraConfig", 11, "raw unit file text")


@pytest.mark.parametrize("key", ["_type", "outPath", "__toString", "__functor"])
def test_module_system_keys_at_any_depth_of_the_settings(tmp_path: Path, key: str) -> None:
    text = VALID.replace(
        "network.veth.config.host.networkConfig",
        f'network.veth.config.host.matchConfig = {{ {key} = "override", Name = "eth0" }}\n'
        f'network.veth.config.container.routes = [{{ Gateway = {{ {key} = "x" }} }}]\n'
        "network.veth.config.host.networkConfig",
    )
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [
        (f"{HOST_SETTINGS}.matchConfig.{format_key((key,))}", 11),
        (
            f"containers.web.network.veth.config.container.routes[0].Gateway.{format_key((key,))}",
            12,
        ),
    ]
    assert all(f"{key!r} is special to Nix" in e.message for e in errors)


def test_a_container_named_out_path(tmp_path: Path) -> None:
    # A container name is an attribute name in nixos-nspawn.containers.
    text = VALID.replace("[containers.db]", "[containers.outPath]").replace(
        'container = "db"', 'container = "web"'
    )
    one_error(tmp_path, text, "containers.outPath", 13, "'outPath' is special to Nix")


def test_escaped_quotes_before_the_end_of_a_multi_line_string(tmp_path: Path) -> None:
    """Valid TOML that crashed the key-position scanner (issue 10): errors keep their lines."""
    text = 'description = """ \\""" """\ntimeout = 0\n[[expect]]\ncheck = "userns"\n'
    errors = errors_of(tmp_path, text)
    assert [(e.key, e.line) for e in errors] == [("timeout", 2), ("expect[0].container", 3)]


def test_unknown_positions_name_the_file_only(tmp_path: Path, monkeypatch) -> None:
    def broken(self: object) -> None:
        raise IndexError("scanner bug")

    monkeypatch.setattr("harness.scenario.tomlpos._Scanner.run", broken)
    errors = errors_of(tmp_path, 'description = "x"\ntimeout = 0\n[[expect]]\ncheck = "userns"\n')
    assert [(e.key, e.line) for e in errors] == [("timeout", None), ("expect[0].container", None)]
    assert str(errors[0]).startswith(f"{tmp_path / 'case.toml'}: timeout: expected a positive ")


def nested(levels: int, kind: str) -> str:
    """A value ``levels`` deep: arrays, or inline tables ``{b = {b = ... 1}}``."""
    return "[" * levels + "]" * levels if kind == "array" else "{b=" * levels + "1" + "}" * levels


@pytest.mark.parametrize("kind", ["array", "table"])
def test_nesting_too_deep_for_tomllib_is_a_syntax_error_at_its_line(
    tmp_path: Path, kind: str
) -> None:
    """The line where the brackets go deeper than the limit (strings and comments skipped)."""
    text = f'description = "x[[[[{{{{"  # [[[[[[[[[[\n\na = {nested(600, kind)}\n'
    (error,) = errors_of(tmp_path, text)
    assert (error.key, error.line) == ("(syntax)", 3)
    assert "nested too deeply" in error.message


@pytest.mark.parametrize("kind", ["array", "table"])
def test_nesting_that_tomllib_accepts_is_bounded_too(tmp_path: Path, kind: str) -> None:
    """300 levels parse, but would exhaust the recursion of the loader's and renderer's walks."""
    text = (
        f'description = "x"\n[containers.web]\nconfig = "{{ }}"\n'
        f"network.veth.config.host.networkConfig.X = {nested(300, kind)}\n"
        '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    )
    (error,) = errors_of(tmp_path, text)
    assert error.line == 4
    assert error.key.startswith("containers.web.network.veth.config.host.networkConfig.X")
    assert "at most 32 levels" in error.message


def test_nesting_up_to_the_limit_loads_and_renders(tmp_path: Path) -> None:
    """X is 7 keys deep; 26 arrays put the innermost at a path of 32 (X plus 25 indexes)."""

    def text(levels: int) -> str:
        return (
            f'description = "x"\n[containers.web]\nconfig = "{{ }}"\n'
            f"network.veth.config.host.X = {nested(levels, 'array')}\n"
            '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
        )

    scenario = load_scenario(write(tmp_path, text(26)))
    render_scenario(scenario, scenario.path.name)
    (error,) = errors_of(tmp_path, text(27))
    assert error.key == "containers.web.network.veth.config.host.X" + "[0]" * 26


@pytest.mark.parametrize(
    "char", ["\u202e", "\u200b", "\u2028", "\u2029", "\x1b", "\u00a0", "\ufeff"]
)
def test_invisible_characters_in_errors_are_escaped(tmp_path: Path, char: str) -> None:
    """A key, a message and a file name print every invisible character as an escape."""
    escape = f"\\u{ord(char):04x}"
    name = f"a{escape}b"  # TOML's escape in the file; the loaded key holds the character
    text = (
        f'description = "x"\n[containers."{name}"]\nconfig = "{{ }}"\n'
        f'[[expect]]\ncheck = "userns"\ncontainer = "{name}"\n"{name}" = 1\n'
    )
    path = write(tmp_path, text, f"bad{char}.toml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    printed = str(caught.value)
    assert char not in printed
    assert f'containers."a{escape}b": invalid container name' in printed
    assert f'expect[0]."a{escape}b": unknown parameter' in printed
    assert f"bad{escape}.toml:1: (file name)" in printed


def test_invisible_characters_outside_the_basic_plane_are_escaped(tmp_path: Path) -> None:
    error = ValidationError(tmp_path / "x.toml", 1, '"\U000e0001"', "tag \U000e0001")
    assert str(error).endswith('"\\U000e0001": tag \\U000e0001')


def test_an_empty_expect_array_is_an_error(tmp_path: Path) -> None:
    """`expect = []` validated, and then the test checked nothing."""
    text = 'description = "x"\nexpect = []\n[containers.web]\nconfig = "{ }"\n'
    one_error(tmp_path, text, "expect", 2, "at least one [[expect]] entry")


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ("", "set the container's NixOS configuration (`config` and/or `imports`, `modules`)"),
        ('config = "{ }"\npath = "/nix/store/aaaa-nixos-system"\n', "path, config are set"),
        ('modules = ["db"]\npath = "/nix/store/aaaa-nixos-system"\n', "path, modules are set"),
    ],
    ids=["neither", "both", "path-and-modules"],
)
def test_a_container_needs_exactly_one_of_config_and_path(
    tmp_path: Path, keys: str, words: str
) -> None:
    text = (
        f'description = "x"\n[containers.web]\n{keys}autoStart = true\n'
        '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    )
    one_error(tmp_path, text, "containers.web", 2, words)


def test_container_names_differing_only_in_case_are_an_error(tmp_path: Path) -> None:
    text = (
        'description = "x"\n[containers.web]\nconfig = "{ }"\n'
        '[containers.WEB]\nconfig = "{ }"\n'
        '[[expect]]\ncheck = "userns"\ncontainer = "WEB"\n'
    )
    one_error(tmp_path, text, "containers.WEB", 4, "'web' and 'WEB' differ only in case")
