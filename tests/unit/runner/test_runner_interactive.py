"""--interactive: choosing where to stop, the prelude, the REPL session (stand-in driver)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import support
from support.demo import DEMO
from support.fake_nix_env import processes_with, result, state, wait_until

import harness.run.interactive
from harness import catalogue
from harness.checks.result import Result
from harness.run.interactive import (
    HAND_OVER,
    REPLS,
    DriverError,
    Stop,
    choose_stop,
    debug_scenario,
    driver_environment,
    run_driver,
    write_prelude,
)
from harness.run.processes import reaped
from harness.scenario.load import load_scenario

FAKE_DRIVER = Path(support.__file__).with_name("fake_driver.py")
IDS = ("unit-active[web]", "reachable[host->web,ipv4]", "tcp[host->web,22]")

SCRIPT = textwrap.dedent(
    """\
    ran = []


    def check(expectation_id, check, params):
        ran.append(expectation_id)


    host.succeed("start")
    check("unit-active[web]", "unit-active", {"container": "web"})
    check(
        "reachable[host->web,ipv4]",
        "reachable",
        {"to": "web"},
    )
    check("tcp[host->web,22]", "tcp", {"to": "web", "port": 22})
    """
)


def last(*records):
    return {r["id"]: Result.from_json(__import__("json").dumps(r)) for r in records}


def test_stop_choice():
    assert choose_stop(IDS, {}, None) == Stop(None, "no recorded run: running the whole script")
    passed = last(*(result(i) for i in IDS))
    assert choose_stop(IDS, passed, None).expectation is None
    failed = last(result(IDS[0]), result(IDS[1], ok=False), result(IDS[2], ok=False))
    assert choose_stop(IDS, failed, None) == Stop(IDS[1], "it failed in the last run")
    died = last(result(IDS[0]))
    assert choose_stop(IDS, died, None) == Stop(IDS[1], "it recorded no result in the last run")
    assert choose_stop(IDS, died, IDS[2]) == Stop(IDS[2], "as requested")


@pytest.fixture(params=["ipython", "ptpython"])
def driver(request, tmp_path, monkeypatch):
    """The stand-in driver, once with each REPL the real one embeds (the real ptpython)."""
    monkeypatch.setenv("FAKE_DRIVER_REPL", request.param)
    return stand_in(tmp_path, monkeypatch, SCRIPT)


def prompted(child):
    """Wait for the REPL's next prompt (keys typed while a command runs are the terminal's
    line discipline's: a Ctrl-D then would be lost)."""
    child.expect([repl.prompt for repl in REPLS], timeout=20)


def leave(child):
    """Ctrl-D, and yes to ptpython's question, as a user leaves the REPL (at its prompt)."""
    child.sendeof()
    child.expect("Do you really want to exit", timeout=20)
    child.send("y")


def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    path = tmp_path / "testScript.py"
    path.write_text(script)
    monkeypatch.setenv("FAKE_DRIVER_SCRIPT", str(path))
    monkeypatch.setenv("FAKE_DRIVER_LOG", str(tmp_path / "driver.log"))
    program = tmp_path / "nixos-test-driver"
    program.write_text(f"#!{sys.executable}\n" + FAKE_DRIVER.read_text())
    program.chmod(0o755)
    return program


def driver_log(driver: Path) -> list[str]:
    """The stand-in's log: its IPYTHONDIR, then "cleanup" once its __exit__ ran."""
    return (driver.parent / "driver.log").read_text().splitlines()


def session_namespace(driver: Path, prelude: Path) -> str:
    """Run the prelude, then ask the REPL what the testScript did; returns its answer."""
    seen: list[str] = []

    def inspect(child):
        # Built at run time: the REPL's echo of the line must not match.
        child.sendline('print("R" + "AN", ran, host.commands)')
        child.expect(r"RAN [^\r\n]*\]\r?\n", timeout=20)  # pexpect: DOTALL
        seen.append(child.after.decode().strip())
        prompted(child)
        leave(child)

    assert run_driver(driver, prelude, cwd=prelude.parent, timeout=30, interact=inspect) == 0
    return seen[0]


@pytest.mark.parametrize(
    ("stop", "ran"),
    [
        (None, IDS),
        (IDS[0], ()),
        (IDS[1], IDS[:1]),  # the statement spans several lines
        (IDS[2], IDS[:2]),
    ],
)
def test_prelude_runs_the_script_up_to_the_expectation(driver, tmp_path, stop, ran):
    prelude = write_prelude(tmp_path / "state" / "demo.py", "demo", Stop(stop, "test"))
    answer = session_namespace(driver, prelude)
    assert answer == f"RAN {list(ran)} ['start']"


def test_debug_scenario_builds_driver_interactive_and_stops_before_the_failure(
    driver, tmp_path, fake_nix
):
    root = tmp_path / "repo"
    (root / "scenarios").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "scenarios" / "demo.toml").write_text(DEMO)
    scenario = load_scenario(root / "scenarios" / "demo.toml")
    results = root / ".nixos-nspawn" / "results" / "demo.jsonl"
    results.parent.mkdir(parents=True)
    results.write_text(
        "\n".join(
            __import__("json").dumps(r)
            for r in (result("unit-active[web]"), result("reachable[host->web,ipv4]", ok=False))
        )
    )
    fake_nix.plan(driver=str(driver))
    said: list[str] = []
    seen: list[str] = []

    def inspect(child):
        child.sendline("print('ST' + 'OP', _count, _total)")
        child.expect(r"STOP [^\r\n]*\r?\n", timeout=20)
        seen.append(child.after.decode().strip())
        prompted(child)
        leave(child)

    status = debug_scenario(
        scenario,
        root,
        "x86_64-linux",
        timeout=30,
        requested=None,
        say=said.append,
        interact=inspect,
    )
    assert status == 0
    (build,) = fake_nix.calls()
    assert build[-1].endswith(
        '.nixos-nspawn/rendered/demo.nix"; modules = flake.nixosModules or { }; })'
        ".driverInteractive"
    )
    assert build[:7] == [
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--print-build-logs",
        "--no-link",
        "--json",
        "--impure",
    ]
    # The stand-in runs SCRIPT: stopped before its 5th statement, the reachable check.
    assert seen == ["STOP 4 6"]
    assert (
        "[nixos-nspawn] demo: running up to reachable[host->web,ipv4] (it failed in the last run)\n"
    ) in said


def test_debug_scenario_recognises_a_committed_nested_scenario_as_fresh(driver, tmp_path, fake_nix):
    """A scenario below scenarios/net/ is rendered with the header `render` commits (its
    catalogue label), so the committed file is fresh and the flake's own check is built."""
    root = tmp_path / "repo"
    (root / "scenarios" / "net").mkdir(parents=True)
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (root / "scenarios" / "net" / "demo.toml").write_text(DEMO)
    loaded = catalogue.load_all(catalogue.scenario_files(root))
    catalogue.write(root, loaded.scenarios)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "flake.nix", "nix/tests/demo.nix"], cwd=root, check=True)
    assert (
        (root / "nix/tests/demo.nix")
        .read_text()
        .startswith("# Generated from scenarios/net/demo.toml by")
    )
    fake_nix.plan(driver=str(driver))
    status = debug_scenario(
        loaded.scenarios[0],
        root,
        "x86_64-linux",
        timeout=30,
        requested=None,
        say=lambda text: None,
        interact=leave,
    )
    assert status == 0
    (build,) = fake_nix.calls()
    assert build[-1] == ".#checks.x86_64-linux.demo.driverInteractive"
    assert "--impure" not in build


def test_debug_scenario_rejects_an_unknown_expectation(tmp_path):
    root = tmp_path / "repo"
    (root / "scenarios").mkdir(parents=True)
    (root / "scenarios" / "demo.toml").write_text(DEMO)
    said: list[str] = []
    status = debug_scenario(
        load_scenario(root / "scenarios" / "demo.toml"),
        root,
        "x86_64-linux",
        timeout=30,
        requested="nosuch[x]",
        say=said.append,
    )
    assert status == 4
    assert "no expectation 'nosuch[x]'; expectations: unit-active[web], " in said[0]


def test_prelude_cuts_the_rendered_test_script_before_the_expectation(tmp_path):
    """On the real rendered testScript: everything before that expectation's check runs."""
    import ast

    from harness.render.nixos_test import render_test_script

    path = tmp_path / "scenarios" / "demo.toml"
    path.parent.mkdir()
    path.write_text(DEMO)
    script = render_test_script(load_scenario(path))
    statements = [ast.unparse(node) for node in ast.parse(script).body]
    stop = next(i for i, text in enumerate(statements) if "reachable[host->web,ipv4]" in text)
    assert statements[stop].startswith("session.check(")

    class Driver:
        tests = script

    executed = []
    namespace = {
        "driver": Driver(),
        "exec": lambda code, scope: executed.append(code),
        "print": lambda *args: None,
    }
    prelude = write_prelude(tmp_path / "demo.py", "demo", Stop("reachable[host->web,ipv4]", "t"))
    local: dict[str, object] = {}
    exec(prelude.read_text(), namespace, local)
    (code,) = executed
    assert code.co_filename == "testScript"
    assert (local["_count"], local["_total"]) == (stop, len(statements))
    assert "session.check" in statements[stop - 1]  # the expectation before it does run


def test_prelude_carries_hostile_values_as_literals(tmp_path):
    hostile = 'command[one:echo """\'\\\n" + __import__("os")]'

    class Driver:
        tests = f"check({hostile!r})\n"

    executed = []
    local: dict[str, object] = {}
    prelude = write_prelude(tmp_path / "p.py", 'we"ird\n', Stop(hostile, "t"))
    namespace = {
        "driver": Driver(),
        "exec": lambda code, scope: executed.append(code),
        "print": lambda *args: None,
    }
    exec(prelude.read_text(), namespace, local)
    assert (local["_scenario"], local["_stop"]) == ('we"ird\n', hostile)
    assert (local["_count"], local["_total"]) == (0, 1)


def visible(shown: bytes) -> str:
    """What a terminal shows of ``shown``, roughly: its text without the control sequences."""
    return re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]|[\x08]", b"", shown).decode()


def test_the_hand_over_notice_comes_before_the_users_prompt(driver, tmp_path, capsysbinary):
    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    assert run_driver(driver, prelude, cwd=tmp_path, timeout=30, interact=leave) == 0
    shown = visible(capsysbinary.readouterr().out)
    prompt = ">>>" if os.environ["FAKE_DRIVER_REPL"] == "ptpython" else "In [2]:"
    # Nothing but the REPL's next prompt after the notice.
    assert shown.split(HAND_OVER)[-1].split() == prompt.split()


def test_the_driver_runs_with_a_fresh_ipython_directory(driver, tmp_path):
    """IPython must not read the user's ~/.ipython (prompts and banners could differ): it makes
    its profile in the fresh directory, which goes with the run."""
    seen = []

    def inspect(child):
        directory = Path(driver_log(driver)[0])
        seen.append((directory.is_dir(), (directory / "profile_default").is_dir()))
        leave(child)

    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    assert run_driver(driver, prelude, cwd=tmp_path, timeout=30, interact=inspect) == 0
    assert seen == [(True, os.environ["FAKE_DRIVER_REPL"] == "ipython")]
    assert not Path(driver_log(driver)[0]).exists()  # removed with the run


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
@pytest.mark.parametrize("repl", ["ipython", "ptpython"])
def test_the_prompt_patterns_match_what_ptpython_draws(repl, term, tmp_path):
    """The real ptpython in a pty, embedded as nixpkgs' driver embeds it: each REPL's pattern
    matches its prompt and not the other's, and no cursor position request (ESC [ 6 n) is sent
    (it would go unanswered: a 2 s wait and a warning)."""
    import pexpect

    embed = {
        "ipython": "import ptpython.ipython; ptpython.ipython.embed(user_ns={}, "
        "history_filename='h')",
        "ptpython": "import ptpython.repl; ptpython.repl.embed({}, {}, history_filename='h')",
    }[repl]
    (tmp_path / "ipython").mkdir()
    child = pexpect.spawn(
        sys.executable,
        ["-c", embed],
        cwd=str(tmp_path),
        env={**os.environ, "TERM": term, **driver_environment(tmp_path / "ipython")},
        timeout=60,
    )
    try:
        mine, other = REPLS if repl == "ipython" else reversed(REPLS)
        child.expect(mine.prompt)
        first = child.before + child.after
        child.sendline("1 + 1")
        child.expect(mine.prompt)  # the redraw of the line, with the input
        child.expect(mine.prompt)  # the next prompt
        shown = first + child.before + child.after
        child.sendline("exit()")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert other.prompt.search(shown) is None
    assert b"\x1b[6n" not in shown
    assert b"CPR" not in shown
    assert b"\x1b[" in first  # the prompt comes with control sequences, not as plain text


@pytest.mark.parametrize(
    ("shown", "repl"),
    [
        (b"\x1b[J\x1b[0;38;5;28mIn [\x1b[0m12\x1b[0;38;5;28m]: \x1b[0m\r\r\n", 0),
        (b"\x1b[0m\x1b[J\x1b[0;1m>>>\x1b[0m\r\r\n\r\r\n\x1b[0m \x08\x1b[5A\x1b[4C", 1),
        (b"booting\r\n>>> ", 1),  # plain text, as a dumb terminal shows it
        (b"booting\r\nIn [1]: ", 0),
        (b"print('>>> ')\r\n", None),  # not at a line start
        (b"x = 'In [1]: '\r\n", None),
        (b"\r\n>>>>\r\n", None),
    ],
)
def test_prompt_patterns(shown, repl):
    found = [i for i, candidate in enumerate(REPLS) if candidate.prompt.search(shown)]
    assert found == ([] if repl is None else [repl])


def test_a_driver_without_a_known_prompt_is_interrupted_and_cleans_up(tmp_path, monkeypatch):
    """No prompt in time: the driver is interrupted (SIGINT to it alone) and its own cleanup
    stops its VM, before anything is killed; the error names the REPLs expected."""
    monkeypatch.setenv("FAKE_DRIVER_REPL", "none")
    monkeypatch.setenv("FAKE_DRIVER_QEMU", f"fake-qemu-{os.getpid()}-{tmp_path.name}")
    # Long enough for the stand-in to be inside its `with Driver(...)` on a busy machine.
    monkeypatch.setattr(harness.run.interactive, "BOOT_TIMEOUT_SECONDS", 5.0)
    program = stand_in(tmp_path, monkeypatch, SCRIPT)
    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    with pytest.raises(DriverError) as raised:
        run_driver(program, prelude, cwd=tmp_path, timeout=10, interact=lambda child: None)
    assert str(raised.value) == (
        f"{program} showed no REPL prompt within 5 s; expected the prompt of "
        "ptpython.ipython.embed (`In [n]: `, current nixpkgs) or "
        "ptpython.repl.embed (`>>> `, older nixpkgs)"
    )
    # No SIGINT reached QEMU: the driver's cleanup stopped it.
    assert driver_log(program)[1:] == ["qemu: SIGTERM", "cleanup (qemu running)"]


@pytest.mark.parametrize("repl", ["ipython", "ptpython"])
def test_a_prelude_past_its_time_is_interrupted_and_the_driver_cleans_up(
    repl, tmp_path, monkeypatch, capsysbinary
):
    """Still running is its own message; a SIGINT to the driver alone and exit() let the
    driver's __exit__ stop its VM (still running then: the SIGINT did not reach it) before
    anything is killed."""
    monkeypatch.setenv("FAKE_DRIVER_REPL", repl)
    monkeypatch.setenv("FAKE_DRIVER_QEMU", f"fake-qemu-{os.getpid()}-{tmp_path.name}")
    program = stand_in(tmp_path, monkeypatch, "import time\n\ntime.sleep(600)\n")
    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    handed = []
    with pytest.raises(
        DriverError,
        match=r"the prelude .* was still running after 2 s; the "
        r"driver was interrupted and left its REPL",
    ):
        run_driver(program, prelude, cwd=tmp_path, timeout=2, interact=handed.append)
    assert handed == []
    assert driver_log(program)[1:] == ["qemu: SIGTERM", "cleanup (qemu running)"]
    assert HAND_OVER not in capsysbinary.readouterr().out.decode()


def test_the_reaper_names_the_drivers_python_process_behind_its_wrapper(tmp_path):
    """nixpkgs' nixos-test-driver is a wrapProgram script that execs Python: the PID the reaper
    writes for a Ctrl-C is that process's own."""
    wrapper = tmp_path / "nixos-test-driver"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import os; print(os.getpid())'\n")
    wrapper.chmod(0o755)
    pid_file = tmp_path / "driver.pid"
    ran = subprocess.run(
        reaped([str(wrapper)], pid_file=pid_file), capture_output=True, text=True, check=True
    )
    assert int(pid_file.read_text()) == int(ran.stdout)


def test_a_driver_that_dies_before_its_prompt_is_reported(tmp_path):
    program = tmp_path / "nixos-test-driver"
    program.write_text("#!/bin/sh\necho 'qemu: could not open /dev/kvm'\nexit 3\n")
    program.chmod(0o755)
    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    with pytest.raises(DriverError, match="exited before its REPL was ready"):
        run_driver(program, prelude, cwd=tmp_path, timeout=10, interact=lambda child: None)


@pytest.mark.parametrize("how", ["ctrl-d", "ctrl-c"])
def test_what_the_driver_started_ends_with_the_session(
    driver, tmp_path, fake_nix, monkeypatch, how
):
    """QEMU and whatever else the driver started (here a daemon) do not outlive the REPL, left
    with Ctrl-D or interrupted (a KeyboardInterrupt here); either way the driver's own cleanup
    stops its VM first."""
    monkeypatch.setenv("FAKE_DRIVER_DAEMON", fake_nix.marker)
    monkeypatch.setenv("FAKE_DRIVER_QEMU", f"fake-qemu-{os.getpid()}-{tmp_path.name}")
    prelude = write_prelude(tmp_path / "p.py", "demo", Stop(None, "t"))
    daemons: list[int] = []

    def end(child):
        wait_until(lambda: bool(fake_nix.survivors()))
        daemons.extend(fake_nix.survivors())
        if how == "ctrl-c":
            raise KeyboardInterrupt
        leave(child)

    if how == "ctrl-c":
        with pytest.raises(KeyboardInterrupt):
            run_driver(driver, prelude, cwd=tmp_path, timeout=30, interact=end)
    else:
        assert run_driver(driver, prelude, cwd=tmp_path, timeout=30, interact=end) == 0
    assert len(daemons) == 1
    assert fake_nix.survivors() == []
    assert driver_log(driver)[1:] == ["qemu: SIGTERM", "cleanup (qemu running)"]


HOST = """\
import sys, time
from pathlib import Path

from harness.run import processes
from harness.run.interactive import Stop, run_driver, write_prelude

processes.KILL_GRACE_SECONDS = 1.0
prelude = write_prelude(Path(sys.argv[2]) / "p.py", "demo", Stop(None, "t"))
run_driver(Path(sys.argv[1]), prelude, cwd=Path(sys.argv[2]), timeout=60,
           interact=lambda child: time.sleep(600))
"""


def test_kill_9_of_the_session_takes_the_driver_and_its_tree_down(
    driver, tmp_path, fake_nix, monkeypatch
):
    monkeypatch.setenv("FAKE_DRIVER_DAEMON", fake_nix.marker)
    host = subprocess.Popen([sys.executable, "-c", HOST, str(driver), str(tmp_path)])
    try:
        assert wait_until(lambda: len(fake_nix.survivors()) == 1)  # the daemon
        # The reaper and the driver (the host names the driver too).
        drivers = [pid for pid in processes_with(str(driver).encode()) if pid != host.pid]
    finally:
        host.kill()
        host.wait()
    assert fake_nix.wait_until_all_gone() == []
    assert len(drivers) == 2
    assert wait_until(lambda: all(state(pid) in (None, "Z") for pid in drivers))
