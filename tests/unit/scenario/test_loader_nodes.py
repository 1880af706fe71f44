"""[nodes.<name>]: plain NixOS VMs besides the host, usable as from/to/on of expectations and
steps, rendered as test nodes and handed to the session."""

from pathlib import Path

import pytest

from harness.loader import load_scenario
from harness.render import render_scenario
from harness.scenario import ScenarioError

TEXT = '''\
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
'''


def load(tmp_path: Path, text: str):
    path = tmp_path / "case.toml"
    path.write_text(text)
    return load_scenario(path)


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return [f"{error.line}: {error.key}: {error.message}" for error in caught.value.errors]


def test_nodes_are_test_vms_handed_to_the_session(tmp_path: Path) -> None:
    scenario = load(tmp_path, TEXT)
    assert [node.name for node in scenario.nodes] == ["outside"]
    text = render_scenario(scenario, "case.toml")
    assert "  nodes.outside = {\n    imports = [\n      (import (builtins.toFile" in text
    assert "    start_all()\n" in text
    assert '    outside.wait_for_unit("multi-user.target")\n' in text
    assert '            "outside": outside,\n' in text


@pytest.mark.parametrize(("change", "expected"), [
    (("[nodes.outside]", "[nodes.host]"),
     "3: nodes.host: 'host' is the VM that runs the containers; choose another name"),
    (("[nodes.outside]", "[nodes.web]"),
     "3: nodes.web: 'web' names a container already: host names are case-insensitive and must "
     "be unique"),
    (("[nodes.outside]", "[nodes.driver]"),
     "3: nodes.driver: invalid node name 'driver': the testScript names the VM by it, so use "
     "lowercase letters and digits, starting with a letter, and none of the driver's names"),
    (("[nodes.outside]", '[nodes."out-side"]'),
     "3: nodes.out-side: invalid node name 'out-side': the testScript names the VM by it, so use "
     "lowercase letters and digits, starting with a letter, and none of the driver's names"),
    (('to = "outside"', 'to = "outsde"'),
     "12: expect[0].to: unknown node 'outsde'; did you mean 'outside'?"),
    (('config = "{ services', 'conf = "{ services'),
     "4: nodes.outside.conf: unknown key; did you mean 'config'?"),
])
def test_node_errors_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert expected in errors(tmp_path, TEXT.replace(*change))


def test_a_container_parameter_names_a_container(tmp_path: Path) -> None:
    text = TEXT + '[[expect]]\ncheck = "userns"\ncontainer = "outside"\n'
    assert errors(tmp_path, text) == [
        "25: expect[2].container: unknown node 'outside' (known: host, web)"
    ]
