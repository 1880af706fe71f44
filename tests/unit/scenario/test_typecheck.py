"""Generated testScripts pass the driver's mypy type check.

Unless a test sets ``skipTypeCheck``, nixpkgs' driver.nix prepends type hints
(``nixos/lib/test-script-prepend.py``: ``driver: Driver`` and friends, then ``<node>:
QemuMachine;`` per VM) to the testScript and runs ``mypy --no-implicit-optional --pretty``. Our
scripts call the harness' checks with the driver's ``QemuMachine`` as ``machine``, so the checks'
``Machine`` protocol must accept it. This test repeats that check with stubs transcribing the
driver's signatures (driver_stubs/), and the repository on MYPYPATH, as the checks package with
its ``py.typed`` marker is on the driver's path.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import find_root, scenario_files
from harness.render.nixos_test import render_test_script
from harness.scenario.load import load_scenario

ROOT = find_root(Path(__file__))
STUBS = Path(__file__).with_name("driver_stubs")
PRELUDE = (
    "from typing import Callable\n"
    "from test_driver.driver import Driver\n"
    "from test_driver.machine import QemuMachine\n"
    "start_all: Callable[[], None]\n"
    "driver: Driver\n"
    "host: QemuMachine;\n"
)


def mypy(tmp_path: Path, scripts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    files = []
    for name, script in scripts.items():
        path = tmp_path / f"{name.replace('-', '_')}.py"
        # The driver declares every node as a QemuMachine (test-script-prepend.py).
        nodes = "".join(f"{node}: QemuMachine;\n" for node in NODES.get(name, ()))
        path.write_text(PRELUDE + nodes + script)
        files.append(str(path))
    env = {**os.environ, "MYPYPATH": f"{STUBS}{os.pathsep}{ROOT}"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-implicit-optional",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )


NODES = {p.stem: [node.name for node in load_scenario(p).nodes] for p in scenario_files(ROOT)}


def test_generated_test_scripts_type_check(tmp_path: Path) -> None:
    scripts = {p.stem: render_test_script(load_scenario(p)) for p in scenario_files(ROOT)}
    result = mypy(tmp_path, scripts)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "broken",
    [
        "session.check(1, 'x', {})\n",
        "host.wait_for_unit(timeout='soon', unit='x')\n",
    ],
)
def test_type_check_catches_mistakes(tmp_path: Path, broken: str) -> None:
    script = render_test_script(load_scenario(scenario_files(ROOT)[0])) + broken
    assert mypy(tmp_path, {"broken": script}).returncode == 1
