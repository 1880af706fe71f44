import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "fake_nix_env", Path(__file__).parents[1] / "runner" / "fake_nix_env.py"
)
assert _spec is not None
assert _spec.loader is not None
fake_nix_env = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_nix_env)


@pytest.fixture
def fake_nix(tmp_path_factory, monkeypatch):
    fake = fake_nix_env.FakeNix(tmp_path_factory.mktemp("fake-nix"), monkeypatch)
    yield fake
    fake.kill_survivors()
