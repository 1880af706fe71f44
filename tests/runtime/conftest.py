"""The runtime tier's one VM run, shared by every runtime test (see runtime_plan.py).

Under pytest-xdist each worker asks for the results; a file lock in the run's shared temporary
directory makes the first one run the VM and the others wait and read its results, so there is
never more than one VM (the machines have two cores).

Run alone with ``.venv/bin/pytest tests/runtime`` (as root; progress goes to stderr and to
``<basetemp>/runtime-tier/progress.log``, the VM's console, command and stderr logs to
``.../vm/``).
The image is built once and cached under ``~/.cache/nixos-nspawn/vm`` (see
tests/support/vm/image.py).
"""

import fcntl
import json
import os
import shutil
import sys
import traceback
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import pytest
from runtime_plan import BEYOND, FEATURES, REFERENCE, ROOT, RunRecord, run_vm


def _missing_requirement() -> str | None:
    if os.geteuid() != 0:
        return "the runtime tier needs root (debootstrap, chroot, mke2fs -d)"
    for tool in ("qemu-system-x86_64", "debootstrap", "mke2fs"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (the runtime tier boots a Debian VM under QEMU)"
    for reference in (REFERENCE, FEATURES, BEYOND):
        if not reference.exists():
            return f"{reference.relative_to(ROOT)} is missing (exported by the module's eval tier)"
    return None


@pytest.fixture(scope="session")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's directory, shared by all workers: its results file (written by the sessions
    as a testScript writes it), the VM's logs, the progress log."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the directory all workers of this run share
    out_dir = shared / "runtime-tier"
    out_dir.mkdir(exist_ok=True)
    return out_dir


@pytest.fixture(scope="session")
def runtime_run(runtime_dir: Path, request: pytest.FixtureRequest) -> RunRecord:
    reason = _missing_requirement()
    if reason is not None:
        pytest.skip(reason)
    out_dir, shared = runtime_dir, runtime_dir.parent
    stored = out_dir / "record.json"
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def progress(line: str) -> None:
        with (out_dir / "progress.log").open("a") as log:
            log.write(line + "\n")
        with capture.global_and_fixture_disabled() if capture else nullcontext():
            print(line, file=sys.stderr, flush=True)

    with (shared / "runtime-tier.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stored.exists():
            try:
                record = run_vm(out_dir, progress)
            except Exception:
                record = RunRecord(error=traceback.format_exc())
            stored.write_text(json.dumps(asdict(record), indent=2))
    record = RunRecord(**json.loads(stored.read_text()))
    if record.error:
        pytest.fail(f"the runtime VM run failed (logs in {out_dir}):\n{record.error}")
    return record
