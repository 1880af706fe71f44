"""The v2 constructs of the scenario format, each validated with located errors and rendered:
[[step]] entries between the expectations (in file order), host specialisations for the
switch step, and [nodes.<name>] VMs besides the host."""

from pathlib import Path

import pytest

from harness.render.nixos_test import render_scenario, render_test_script
from harness.scenario.driver_names import DRIVER_NAMES, DRIVER_REVISION, driver_name_problem
from harness.scenario.load import load_scenario
from harness.scenario.model import ScenarioError, Step
from harness.scenario.nixvalues import NixCode, PrebuiltSystem
from harness.scenario.tomlpos import KeyLines

HEAD = """\
description = "steps"

[containers.web]
config = "{ }"
"""

TAIL = '[containers.web]\nconfig = "{ }"\n'

STEPS = (
    HEAD
    + """
[[step]]
action = "run"
run = "mkdir -p /srv/web"

[[expect]]
check = "unit-active"
container = "web"

[[step]]
action = "restart"
container = "web"

[[step]]
action = "wait-port"
on = "web"
port = 80

[[expect]]
check = "http"
to = "web"
"""
)


def load(tmp_path: Path, text: str):
    path = tmp_path / "case.toml"
    path.write_text(text)
    return load_scenario(path)


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return [f"{error.line}: {error.key}: {error.message}" for error in caught.value.errors]


def test_steps_are_placed_between_expectations(tmp_path: Path) -> None:
    scenario = load(tmp_path, STEPS)
    assert scenario.steps == (
        Step(
            "run[host:mkdir -p /srv/web]", "run", {"on": "host", "run": "mkdir -p /srv/web"}, 6, 0
        ),
        Step("restart[web]", "restart", {"container": "web"}, 14, 1),
        Step("wait-port[web:80]", "wait-port", {"on": "web", "port": 80}, 18, 1),
    )
    assert [entry.id for entry in scenario.program] == [
        "run[host:mkdir -p /srv/web]",
        "unit-active[web]",
        "restart[web]",
        "wait-port[web:80]",
        "http[host->web:80/]",
    ]


def test_a_valid_file_with_steps_needs_no_full_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The full key scan costs about twice tomllib's parse: only a file with errors, or with
    # headers the quick search cannot count, pays it.
    def scan(source: str) -> KeyLines:
        raise AssertionError("the full key scan ran for a valid file")

    monkeypatch.setattr("harness.scenario.reader.key_lines", scan)
    assert [(s.line, s.before) for s in load(tmp_path, STEPS).steps] == [(6, 0), (14, 1), (18, 1)]


def test_steps_in_other_spellings_are_placed_by_the_full_scan(tmp_path: Path) -> None:
    # Not `[[step]]` headers: the quick header search finds none, the full key scan places them.
    text = STEPS.replace(
        '[[step]]\naction = "restart"\ncontainer = "web"\n\n'
        '[[step]]\naction = "wait-port"\non = "web"\nport = 80\n',
        '[[ "step" ]]\naction = "restart"\ncontainer = "web"\n\n'
        "[[step]]\naction = 'wait-port'\non = \"web\"\nport = 80\n",
    ).replace('[[step]]\naction = "run"', "[['step']]\naction = \"run\"")
    assert [(s.line, s.before) for s in load(tmp_path, text).steps] == [(6, 0), (14, 1), (18, 1)]
    inline = (
        'description = "steps"\n'
        'step = [{ action = "run", run = "true" },\n  { action = "restart", container = "web" }]\n'
        + TAIL
        + '[[expect]]\ncheck = "unit-active"\ncontainer = "web"\n'
    )
    assert [(s.line, s.before) for s in load(tmp_path, inline).steps] == [(2, 0), (3, 0)]


def test_unknown_lines_are_an_error_rather_than_a_guessed_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should the full scan ever fail on a document whose headers the quick search misses.
    monkeypatch.setattr("harness.scenario.reader.key_lines", lambda source: KeyLines(scanned=False))
    inline = (
        'description = "steps"\nstep = [{ action = "run", run = "true" }]\n'
        + TAIL
        + '[[expect]]\ncheck = "unit-active"\ncontainer = "web"\n'
    )
    assert errors(tmp_path, inline) == [
        "None: step: the order of steps and expectations is unknown: the file's lines could not "
        "be scanned"
    ]


def test_test_script_runs_them_in_file_order(tmp_path: Path) -> None:
    script = render_test_script(load(tmp_path, STEPS))
    calls = [line for line in script.splitlines() if line.startswith("session.")]
    assert calls == [
        'session.step("run[host:mkdir -p /srv/web]", "run", {"on": "host", '
        '"run": "mkdir -p /srv/web"})',
        'session.check("unit-active[web]", "unit-active", {"container": "web"})',
        'session.step("restart[web]", "restart", {"container": "web"})',
        'session.step("wait-port[web:80]", "wait-port", {"on": "web", "port": 80})',
        'session.check("http[host->web:80/]", "http", {"from": "host", "port": 80, "path": "/", '
        '"status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web"})',
        "session.finish()",
    ]


def test_a_repeated_step_gets_a_number(tmp_path: Path) -> None:
    text = (
        HEAD + '[[step]]\naction = "stop"\ncontainer = "web"\n'
        '[[step]]\naction = "stop"\ncontainer = "web"\n[[expect]]\ncheck = "userns"\n'
        'container = "web"\n'
    )
    assert [s.id for s in load(tmp_path, text).steps] == ["stop[web]", "stop[web]#2"]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            'action = "dance"',
            "6: step[0].action: unknown step 'dance' (known: restart, stop, "
            "start, run, wait-unit, wait-port, switch, reboot, mark, partition, heal, kill, "
            "freeze, thaw, kill-unit)",
        ),
        ('action = "rebot"', "6: step[0].action: unknown step 'rebot'; did you mean 'reboot'?"),
        (
            'action = "reboot"\non = "web"',
            "7: step[0].on: 'web' is a container; step 'reboot' takes the host or a [nodes] VM",
        ),
        (
            'action = "reboot"\non = "hots"',
            "7: step[0].on: unknown node 'hots'; did you mean 'host'?",
        ),
        ('container = "web"', "5: step[0].action: required key is missing"),
        ('action = "restart"', "5: step[0].container: required parameter is missing"),
        (
            'action = "restart"\ncontainer = "wbe"',
            "7: step[0].container: unknown node 'wbe'; did you mean 'web'?",
        ),
        (
            'action = "restart"\ncontainer = "host"',
            "7: step[0].container: must name a container, not the host",
        ),
        (
            'action = "run"\nrun = "true"\nwithin = 0',
            "8: step[0].within: must be within 1..3600, got 0",
        ),
        (
            'action = "run"\nrun = "true"\nwtihin = 3',
            "8: step[0].wtihin: unknown parameter for step 'run'; did you mean 'within'?",
        ),
        (
            'action = "wait-port"\nport = 70000',
            "7: step[0].port: must be within 1..65535, got 70000",
        ),
        ('action = "wait-unit"\nunit = 3', "7: step[0].unit: expected a string, got integer 3"),
    ],
)
def test_step_errors_are_located(tmp_path: Path, step: str, expected: str) -> None:
    text = HEAD + "[[step]]\n" + step + '\n[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    assert expected in errors(tmp_path, text)


def test_a_step_needs_a_later_expectation(tmp_path: Path) -> None:
    text = (
        HEAD + '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
        '[[step]]\naction = "stop"\ncontainer = "web"\n'
    )
    assert errors(tmp_path, text) == [
        "8: step[0]: no expectation follows this step, so nothing would show its effect: add "
        "an [[expect]] after it"
    ]


def test_step_must_be_an_array_of_tables(tmp_path: Path) -> None:
    text = (
        'description = "x"\nstep = "restart"\n'
        + TAIL
        + '[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    )
    assert errors(tmp_path, text) == [
        "2: step: expected an array of tables ([[step]]), got string 'restart'"
    ]


SPECIALISED = """\
description = "switch"

[containers.web]
config = "{ }"

[host.specialisations.v2]
config = "{ networking.firewall.enable = false; }"
containers.web.config = "{ services.nginx.enable = true; }"

[[step]]
action = "switch"
to = "v2"

[[expect]]
check = "userns"
container = "web"
"""


def test_specialisations_render_as_the_host_option(tmp_path: Path) -> None:
    scenario = load(tmp_path, SPECIALISED)
    (specialisation,) = scenario.host.specialisations
    assert specialisation.name == "v2"
    assert dict(specialisation.containers) == {"web": NixCode("{ services.nginx.enable = true; }")}
    text = render_scenario(scenario, "case.toml")
    assert "      specialisation = {\n        v2.configuration = {\n          imports = [\n" in text
    assert "        nixos-nspawn.containers.web.config = (import (builtins.toFile" in text
    assert 'session.step("switch[v2]", "switch", {"to": "v2"})' in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('to = "v2"', 'to = "v3"'),
            "12: step[0].to: unknown specialisation 'v3' (known: base, v2)",
        ),
        (('to = "v2"', 'to = "base"'), None),
        (
            ("containers.web.config", "containers.wbe.config"),
            "8: host.specialisations.v2.containers.wbe: unknown "
            "container 'wbe'; did you mean 'web'?",
        ),
        (
            ("[host.specialisations.v2]", "[host.specialisations.base]"),
            "6: host.specialisations.base: invalid specialisation name 'base': use letters, digits "
            "and '-' (not at either end), not 'base'",
        ),
        (
            ("containers.web.config =", "containers.web.conf ="),
            "8: host.specialisations.v2.containers.web.conf: unknown key; did you mean 'config'?",
        ),
        (
            ('config = "{ networking', 'confgi = "{ networking'),
            "7: host.specialisations.v2.confgi: unknown key; did you mean 'config'?",
        ),
    ],
)
def test_specialisation_errors_are_located(
    tmp_path: Path, change: tuple[str, str], expected: str | None
) -> None:
    text = SPECIALISED.replace(*change)
    if expected is None:
        load(tmp_path, text)
    else:
        assert expected in errors(tmp_path, text)


NODES = """\
description = "nodes"

[nodes.outside]
config = "{ services.nginx.enable = true; }"

[containers.web]
config = "{ }"

[[expect]]
check = "http"
from = "web"
to = "outside"

[[step]]
action = "run"
on = "outside"
run = "true"

[[expect]]
check = "command"
on = "outside"
run = "true"
"""


def test_nodes_are_test_vms_handed_to_the_session(tmp_path: Path) -> None:
    scenario = load(tmp_path, NODES)
    assert [node.name for node in scenario.nodes] == ["outside"]
    text = render_scenario(scenario, "case.toml")
    assert "  nodes.outside = {\n    imports = [\n      (import (builtins.toFile" in text
    assert "    start_all()\n" in text
    assert '    outside.wait_for_unit("multi-user.target")\n' in text
    assert '            "outside": outside,\n' in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("[nodes.outside]", "[nodes.host]"),
            "3: nodes.host: 'host' is the VM that runs the containers; choose another name",
        ),
        (
            ("[nodes.outside]", "[nodes.web]"),
            "3: nodes.web: 'web' names a container already: host names "
            "are case-insensitive and must "
            "be unique",
        ),
        (
            ("[nodes.outside]", "[nodes.driver]"),
            "3: nodes.driver: invalid node name 'driver': the testScript already has a "
            "'driver' (the test driver's or the harness's), which the node would replace: "
            "choose another name",
        ),
        (
            ("[nodes.outside]", '[nodes."out-side"]'),
            "3: nodes.out-side: invalid node name 'out-side': the "
            "testScript names the VM by it, so use "
            "lowercase letters and digits, starting with a letter (not a Python keyword)",
        ),
        (
            ("[nodes.outside]", "[nodes.vlan1]"),
            "3: nodes.vlan1: invalid node name 'vlan1': the test driver names its VLANs "
            "vlan<N> in the testScript, so a node 'vlan1' would be a VLAN there: choose "
            "another name",
        ),
        (
            ("[nodes.outside]", "[nodes.vlan4094]"),
            "3: nodes.vlan4094: invalid node name 'vlan4094': the test driver names its VLANs "
            "vlan<N> in the testScript, so a node 'vlan4094' would be a VLAN there: choose "
            "another name",
        ),
        (
            ("[nodes.outside]", "[nodes.debug]"),
            "3: nodes.debug: invalid node name 'debug': the testScript already has a "
            "'debug' (the test driver's or the harness's), which the node would replace: "
            "choose another name",
        ),
        (
            ("[nodes.outside]", f"[nodes.{'o' * 64}]"),
            f"3: nodes.{'o' * 64}: node name '{'o' * 64}' is too long: it is the VM's host "
            "name, which has at most 63 characters",
        ),
        (
            ('to = "outside"', 'to = "outsde"'),
            "12: expect[0].to: unknown node 'outsde'; did you mean 'outside'?",
        ),
        (
            ('config = "{ services', 'conf = "{ services'),
            "4: nodes.outside.conf: unknown key; did you mean 'config'?",
        ),
    ],
)
def test_node_errors_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert expected in errors(tmp_path, NODES.replace(*change))


def test_a_node_name_may_be_63_characters_long(tmp_path: Path) -> None:
    name = "o" * 63
    text = NODES.replace("[nodes.outside]", f"[nodes.{name}]").replace('"outside"', f'"{name}"')
    assert [node.name for node in load(tmp_path, text).nodes] == [name]


def test_node_names_cover_the_drivers_namespace() -> None:
    """The general symbols of ``Driver.test_symbols()`` in nixpkgs' driver.py at
    :data:`DRIVER_REVISION` (transcribed here by hand from that revision), all refused."""
    assert DRIVER_REVISION == "003d58163f469fbeb0d51e4ef8d46af622759627"
    at_revision = {
        "start_all", "test_script", "machines_qemu", "machines_nspawn", "vlans", "driver",
        "log", "os", "create_machine", "subtest", "run_tests", "join_all", "retry",
        "serial_stdout_off", "serial_stdout_on", "polling_condition", "BaseMachine", "t",
        "debug",
    }  # fmt: skip
    assert at_revision <= DRIVER_NAMES
    for name in [*at_revision, "machine", "vlan1", "vlan2", "session", "topology", "checks"]:
        assert driver_name_problem(name) is not None, name
    assert driver_name_problem("outside") is None
    assert driver_name_problem("vlan") is None


def test_a_container_parameter_names_a_container(tmp_path: Path) -> None:
    text = NODES + '[[expect]]\ncheck = "userns"\ncontainer = "outside"\n'
    assert errors(tmp_path, text) == [
        "25: expect[2].container: unknown node 'outside' (known: host, web)"
    ]


REBOOT = (
    NODES
    + """
[[step]]
action = "reboot"

[[step]]
action = "reboot"
on = "outside"

[[expect]]
check = "unit-active"
container = "web"
"""
)


def test_reboot_renders_as_a_step_and_the_topology_knows_autostart(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        REBOOT.replace(
            '[containers.web]\nconfig = "{ }"\n',
            '[containers.web]\nconfig = "{ }"\nautoStart = false\n',
        ),
    )
    assert [step.id for step in scenario.steps[1:]] == ["reboot[host]", "reboot[outside]"]
    script = render_test_script(scenario)
    assert 'session.step("reboot[host]", "reboot", {"on": "host"})\n' in script
    assert 'session.step("reboot[outside]", "reboot", {"on": "outside"})\n' in script
    assert "            auto_start=False,\n" in script
    assert "auto_start=True" in render_test_script(load(tmp_path, REBOOT))  # the default


PREBUILT = """\
description = "prebuilt"

[containers.web.path]
config = "{ nixos-nspawn.isContainer = true; }"

[containers.db]
path = "/nix/store/aaaa-nixos-system-db"

[[expect]]
check = "unit-active"
container = "web"
"""


def test_a_path_table_is_a_system_built_from_nix_code(tmp_path: Path) -> None:
    web, db = load(tmp_path, PREBUILT).containers
    assert web.config is None
    assert web.path == PrebuiltSystem(NixCode("{ nixos-nspawn.isContainer = true; }"))
    assert db.path == "/nix/store/aaaa-nixos-system-db"  # a string stays data
    text = render_scenario(load(tmp_path, PREBUILT), "case.toml")
    assert (
        "        web.path = (pkgs.nixos [ nixosModules.default (import (builtins.toFile "
        "\"scenario-config.nix\" ''\n"
    ) in text
    assert '        db.path = "/nix/store/aaaa-nixos-system-db";\n' in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            (
                '[containers.web.path]\nconfig = "{ nixos-nspawn.isContainer = true; }"',
                "[containers.web]\npath = 3",
            ),
            "4: containers.web.path: expected an absolute path (a "
            "string) or a table with `config`, "
            "got integer 3",
        ),
        (
            ('config = "{ nixos', 'confg = "{ nixos'),
            "4: containers.web.path.confg: unknown key; did you mean 'config'?",
        ),
        (
            ('config = "{ nixos', 'confg = "{ nixos'),
            "3: containers.web.path: give the prebuilt system's `config` (a NixOS module)",
        ),
        (
            ('config = "{ nixos-nspawn.isContainer = true; }"', 'config = " "'),
            '4: containers.web.path.config: empty Nix code: write a module such as "{ }"',
        ),
        (
            ('path = "/nix/store/aaaa-nixos-system-db"', 'path = "nix/store/a"'),
            "7: containers.db.path: expected an absolute path, got 'nix/store/a'",
        ),
        (
            ('path = "/nix/store/aaaa-nixos-system-db"', 'path = "/nix/store/a b"'),
            "7: containers.db.path: ",
        ),
        (
            ("[containers.web.path]", '[containers.web]\nconfig = "{ }"\n[containers.web.path]'),
            "3: containers.web: set either `path` (a prebuilt system) or the container's NixOS "
            "configuration (`config`, `imports`, `modules`): path, config are set",
        ),
        (
            ("[[expect]]", '[host.specialisations.v2]\ncontainers.web.config = "{ }"\n[[expect]]'),
            "10: host.specialisations.v2.containers.web: container 'web' runs a prebuilt `path`: a "
            "specialisation can change only a container's `config`",
        ),
    ],
)
def test_path_errors_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = errors(tmp_path, PREBUILT.replace(*change))
    assert any(error.startswith(expected) for error in found), found
