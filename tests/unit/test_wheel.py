"""What a user installs holds only the product: every module of the wheel is reached from what
the plugin, the CLI and the generated tests use, and every data file is one the code loads.

The wheel is built from a copy of the tracked files with the venv's own setuptools
(``--no-build-isolation``: no download), so a test-only module placed under ``harness/`` (as the
runtime VM once was) fails here.
"""

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = (
    "harness.plugin",  # the pytest11 entry point
    "harness.__main__",  # python -m harness
    "harness.checks",  # imported by every generated testScript
)
SCRIPTS = {
    # Run by path, not imported: harness/run/processes.py starts it as a script.
    "harness/run/reaper.py": "harness/run/processes.py",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("-w", str(out), str(source)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def module_path(module: str) -> PurePosixPath | None:
    """The file of ``module`` in the source tree (a package's ``__init__.py``), if any."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return PurePosixPath(candidate.relative_to(ROOT).as_posix())
    return None


def imported_modules(path: PurePosixPath) -> set[str]:
    """Every ``harness`` module ``path`` imports, at any depth of the file (lazy imports too),
    relative imports (``from .errors import ...``, as in ``harness/checks``) included."""
    tree = ast.parse((ROOT / path).read_text())
    package = list(path.parent.parts)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            # `from harness.run import processes` imports the submodule processes.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "harness"}


def reached_files() -> set[PurePosixPath]:
    """The source files reached from the entry points through imports (and their packages)."""
    reached: set[PurePosixPath] = set()
    todo = list(ENTRY_POINTS)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        # Importing a.b.c imports a and a.b first.
        for depth in range(1, len(parts) + 1):
            path = module_path(".".join(parts[:depth]))
            if path is None or path in reached:
                continue
            reached.add(path)
            todo.extend(imported_modules(path))
    for script, user in SCRIPTS.items():
        if PurePosixPath(user) in reached:
            reached.add(PurePosixPath(script))
    return reached


def test_the_closure_reaches_the_plugin_and_the_checks() -> None:
    # The walk must follow imports at all, or the test below would flag everything.
    reached = {str(path) for path in reached_files()}
    assert {"harness/render/nixos_test.py", "harness/run/build.py"} <= reached
    assert "harness/checks/session.py" in reached


def test_every_module_in_the_wheel_is_used(wheel: zipfile.ZipFile) -> None:
    reached = reached_files()
    modules = [PurePosixPath(name) for name in wheel.namelist() if name.endswith(".py")]
    assert modules, "the wheel holds no modules"
    unused = [str(path) for path in modules if path not in reached]
    assert not unused, f"the wheel ships modules that the plugin and CLI never use: {unused}"


def test_every_data_file_in_the_wheel_is_loaded(wheel: zipfile.ZipFile) -> None:
    renderer = (ROOT / "harness/render/nixos_test.py").read_text()
    data = [
        name
        for name in wheel.namelist()
        if name.startswith("harness/") and not name.endswith((".py", "/"))
    ]
    unused = [
        name
        for name in data
        if name != "harness/py.typed"  # PEP 561: tells type checkers the package is typed
        and not (name.startswith("harness/render/templates/") and Path(name).name in renderer)
    ]
    assert not unused, f"the wheel ships data files nothing loads: {unused}"
    assert "harness/render/templates/test.nix.j2" in data


def test_the_wheel_holds_only_the_harness_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"harness"}
