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
STUBS = {
    "int timeouts (nixpkgs 25.05 to 26.05)": Path(__file__).with_name("driver_stubs"),
    "Duration timeouts (current)": Path(__file__).with_name("driver_stubs_current"),
}
"""The driver's signatures before and after nixpkgs PR #542374 (every timeout a ``Duration``)."""
PRELUDE = (
    "from typing import Callable\n"
    "from test_driver.driver import Driver\n"
    "from test_driver.machine import QemuMachine\n"
    "start_all: Callable[[], None]\n"
    "driver: Driver\n"
    "host: QemuMachine;\n"
)


def mypy(
    tmp_path: Path, scripts: dict[str, str], stubs: Path = STUBS["Duration timeouts (current)"]
) -> subprocess.CompletedProcess[str]:
    files = []
    for name, script in scripts.items():
        path = tmp_path / f"{name.replace('-', '_')}.py"
        # The driver declares every node as a QemuMachine (test-script-prepend.py).
        nodes = "".join(f"{node}: QemuMachine;\n" for node in NODES.get(name, ()))
        path.write_text(PRELUDE + nodes + script)
        files.append(str(path))
    env = {**os.environ, "MYPYPATH": f"{stubs}{os.pathsep}{ROOT}"}
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


@pytest.mark.parametrize("stubs", STUBS.values(), ids=STUBS.keys())
def test_generated_test_scripts_type_check(tmp_path: Path, stubs: Path) -> None:
    scripts = {p.stem: render_test_script(load_scenario(p)) for p in scenario_files(ROOT)}
    result = mypy(tmp_path, scripts, stubs)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stubs", STUBS.values(), ids=STUBS.keys())
@pytest.mark.parametrize(
    "broken",
    [
        "session.check(1, 'x', {})\n",
        "host.wait_for_unit(timeout='soon', unit='x')\n",
    ],
)
def test_type_check_catches_mistakes(tmp_path: Path, broken: str, stubs: Path) -> None:
    script = render_test_script(load_scenario(scenario_files(ROOT)[0])) + broken
    assert mypy(tmp_path, {"broken": script}, stubs).returncode == 1


def test_the_stubs_differ_in_the_timeout_type(tmp_path: Path) -> None:
    """A timedelta is what the current driver takes and the older one refuses."""
    script = (
        render_test_script(load_scenario(scenario_files(ROOT)[0]))
        + "import datetime\nhost.succeed('true', timeout=datetime.timedelta(seconds=5))\n"
    )
    old, current = STUBS.values()
    assert mypy(tmp_path, {"old": script}, old).returncode == 1
    assert mypy(tmp_path, {"current": script}, current).returncode == 0
