import pytest
from fake_nix_env import FakeNix


@pytest.fixture
def fake_nix(tmp_path_factory, monkeypatch) -> FakeNix:
    return FakeNix(tmp_path_factory.mktemp("fake-nix"), monkeypatch)
