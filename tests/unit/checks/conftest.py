import pytest
from checks_fakes import Rig, make_rig


@pytest.fixture
def rig(tmp_path) -> Rig:
    return make_rig(tmp_path)
