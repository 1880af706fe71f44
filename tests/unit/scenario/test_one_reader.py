"""One reader (issue #28, class 6): every pass over scenario files reads them through the
loader's bounded, guarded reading, so the content extremes the loader handles (nesting deep
enough to exhaust Python's recursion, a file just over the size limit, bytes that are no UTF-8)
give each pass the loader's located errors, never a traceback. (Non-regular entries: see
tests/unit/plugin/test_plugin_entries.py.)"""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bench.loading import _parse
from harness.cli import main
from harness.scenario.load import load_scenario, parse_nix_code_of
from harness.scenario.model import ScenarioError
from harness.scenario.source import MAX_FILE_BYTES

DEMO = (
    'description = "d"\ncontainers.c.config = "{ }"\n'
    'expect = [{ check = "userns", container = "c" }]\n'
)
DEEP = 5000
EXTREMES = {
    "deep-arrays": ('description = "x"\na = ' + "[" * DEEP + "]" * DEEP + "\n", ":2: (syntax): "),
    "deep-tables": (
        'description = "x"\na = ' + "{b = " * 5000 + "1" + "}" * 5000 + "\n",
        ":2: (syntax): ",
    ),
    "deep-headers": ('description = "x"\n[' + ".".join(["a"] * 1500) + "]\n", ":2: a.a.a."),
    "deep-config": (DEMO + "[" + "x." * 1500 + 'x]\nconfig = "{ }"\n', ":4: x.x.x."),
    "large": ("#" * MAX_FILE_BYTES + "\n", f": (file): larger than {MAX_FILE_BYTES} bytes"),
    "latin1": (b'description = "caf\xe9"\n', ": (file): not UTF-8: "),
}
TIMEOUT = 300


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "nix" / "tests").mkdir(parents=True)
    scenarios = root / "scenarios"
    scenarios.mkdir()
    (scenarios / "demo.toml").write_text(DEMO)
    for name, (text, _) in EXTREMES.items():
        path = scenarios / f"{name}.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


def expected_lines(root: Path) -> dict[str, str]:
    return {
        name: f"{root / 'scenarios' / name}.toml{where}" for name, (_, where) in EXTREMES.items()
    }


def assert_reported(root: Path, output: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    assert "RecursionError" not in output
    for name, start in expected_lines(root).items():
        assert any(line.startswith(start) for line in output.splitlines()), (name, output[-3000:])


@pytest.mark.parametrize(
    "command", [["list"], ["validate"], ["render"], ["render", "--check"], ["show", "demo"]]
)
def test_every_cli_command_reports_the_extremes(
    project: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    status = main(["--root", str(project), *command], out)
    output = out.getvalue() + capsys.readouterr().err
    if command[0] == "show":  # shows one file: the named one, which is fine
        assert status == 0, output
        return
    assert status == 1
    assert_reported(project, output)


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_validate_of_one_file_and_show_report_it(
    project: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["validate", str(project / "scenarios" / f"{name}.toml")], ["show", name]):
        out = io.StringIO()
        assert main(["--root", str(project), *command], out) == 1
        output = out.getvalue() + capsys.readouterr().err
        assert "Traceback" not in output
        assert output.startswith(expected_lines(project)[name]), output[:500]


def test_the_batched_nix_syntax_pass_passes_over_them(project: Path) -> None:
    """parse_nix_code_of reads through the loader too: no exception, loading reports them."""
    parse_nix_code_of(sorted((project / "scenarios").glob("*.toml")))


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_the_benchs_phases_report_them(project: Path, name: str) -> None:
    path = project / "scenarios" / f"{name}.toml"
    for phase in (_parse, load_scenario):
        with pytest.raises(ScenarioError) as caught:
            phase(path)
        assert str(caught.value.errors[0]).startswith(expected_lines(project)[name])


def test_plugin_collection_reports_them(project: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            "--rootdir",
            str(project),
            str(project / "scenarios"),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=project,
    )
    output = done.stdout + done.stderr
    assert "RecursionError" not in output
    assert "scenarios/demo.toml::validate-render" in output, output[-3000:]
    for name in EXTREMES:
        assert f"scenarios/{name}.toml::validate-render" in output, output[-3000:]
