"""`pytest --interactive` end to end in a real terminal (pexpect): stand-in nix and driver."""

import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
import support
from support.demo import DEMO

FAKE_DRIVER = Path(support.__file__).with_name("fake_driver.py")

SCRIPT = textwrap.dedent(
    """\
    ran = []


    def check(expectation_id):
        ran.append(expectation_id)


    check("unit-active[web]")
    check("reachable[host->web,ipv4]")
    """
)


@pytest.fixture
def project(tmp_path, fake_nix, monkeypatch) -> Path:
    root = tmp_path / "project"
    (root / "scenarios").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "scenarios" / "demo.toml").write_text(DEMO)
    driver = tmp_path / "driver.py"
    driver.write_text(f"#!{sys.executable}\n" + FAKE_DRIVER.read_text())
    (tmp_path / "testScript.py").write_text(SCRIPT)
    monkeypatch.setenv("FAKE_DRIVER_SCRIPT", str(tmp_path / "testScript.py"))
    monkeypatch.setenv("FAKE_DRIVER_LOG", str(tmp_path / "driver.log"))
    fake_nix.plan(driver=str(driver))
    return root


def test_interactive_hands_over_the_repl_after_the_expectations_before(project, fake_nix):
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "scenarios",
            "--interactive",
            "demo::reachable[host->web,ipv4]",
            "--nixos-nspawn-allow-tcg",
            "--nixos-nspawn-system",
            "x86_64-linux",
        ],
        cwd=str(project),
        timeout=60,
        encoding="utf-8",
    )
    try:
        child.expect("running up to reachable\\[host->web,ipv4\\] \\(as requested\\)")
        child.expect("the VM is yours")
        child.sendline('print("RAN", ran)')
        child.expect(r"RAN \['unit-active\[web\]'\]")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    (build,) = [call for call in fake_nix.calls() if "build" in call]
    assert build[-1].endswith('demo.nix").driverInteractive')
