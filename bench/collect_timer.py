"""pytest plugin that the bench loads into the pytest processes it times (``-p``): prints the CPU
time of the collection phase alone, from its first hook to its last, so neither start-up nor
waiting for a busy machine's CPU counts."""

from __future__ import annotations

import time

import pytest

LINE = "bench: collection took {:.4f} s of CPU"
_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.process_time()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    seconds = time.process_time() - session.config.stash[_STARTED]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(LINE.format(seconds))
