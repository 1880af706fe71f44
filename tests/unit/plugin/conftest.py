"""Fixtures of the plugin's tests."""

import pytest

from harness.run import capabilities


@pytest.fixture
def kvm(tmp_path, monkeypatch):
    """A usable KVM as far as the probe can tell (device present, kvm_intel loaded)."""
    device = tmp_path / "kvm"
    device.write_text("")
    modules = tmp_path / "modules"
    (modules / "kvm").mkdir(parents=True)
    (modules / "kvm_intel").mkdir()
    monkeypatch.setattr(capabilities, "KVM_DEVICE", device)
    monkeypatch.setattr(capabilities, "SYS_MODULES", modules)
    return modules
