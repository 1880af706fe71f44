from collections.abc import Iterator

import pytest
from support.fake_nix_env import FakeNix


@pytest.fixture
def fake_nix(tmp_path_factory, monkeypatch) -> Iterator[FakeNix]:
    fake = FakeNix(tmp_path_factory.mktemp("fake-nix"), monkeypatch)
    yield fake
    fake.kill_survivors()
