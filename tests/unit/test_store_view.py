"""nix/host/store-view.sh: the closure-only store's skeleton and binds, from a store-paths file.

The module runs it in a derivation over `pkgs.closureInfo`; here it runs over a small fake store
with each kind of store path (directory, file, symlink).
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "nix" / "host" / "store-view.sh"


def _store(tmp_path: Path) -> list[Path]:
    store = tmp_path / "store"
    store.mkdir()
    package = store / "aaaa-hello-2.12"
    (package / "bin").mkdir(parents=True)
    (package / "bin" / "hello").write_text("#!/bin/sh\n")
    config = store / "bbbb-hello.conf"
    config.write_text("greeting = hi\n")
    alias = store / "cccc-hello-alias"
    alias.symlink_to(package)
    return [package, config, alias]


def test_store_view_binds_directories_and_files_and_copies_symlinks(tmp_path: Path) -> None:
    package, config, alias = _store(tmp_path)
    paths = tmp_path / "store-paths"
    paths.write_text("".join(f"{p}\n" for p in (package, config, alias)))
    skeleton = tmp_path / "skeleton"

    result = subprocess.run(
        ["sh", str(SCRIPT), str(paths), str(skeleton)], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines() == [
        "[Files]",
        f"BindReadOnly={skeleton}:/nix/store",
        f"BindReadOnly={package}",
        f"BindReadOnly={config}",
    ]
    assert sorted(p.name for p in skeleton.iterdir()) == [
        "aaaa-hello-2.12",
        "bbbb-hello.conf",
        "cccc-hello-alias",
    ]
    # mount points: an empty directory, an empty file; the symlink as it is
    assert (skeleton / package.name).is_dir()
    assert not any((skeleton / package.name).iterdir())
    assert (skeleton / config.name).is_file()
    assert (skeleton / config.name).stat().st_size == 0
    assert os.readlink(skeleton / alias.name) == str(package)
    # read-only, so that nothing in the container can add to its /nix/store
    for entry in (skeleton, skeleton / package.name, skeleton / config.name):
        assert entry.stat().st_mode & 0o222 == 0, entry


def test_store_view_fails_on_a_missing_path(tmp_path: Path) -> None:
    paths = tmp_path / "store-paths"
    paths.write_text(f"{tmp_path / 'store' / 'dddd-gone'}\n")
    result = subprocess.run(
        ["sh", str(SCRIPT), str(paths), str(tmp_path / "skeleton")],
        capture_output=True,
        text=True,
        check=False,
    )
    # a missing path would become an empty file bound to nothing: nspawn would fail to start
    assert result.returncode != 0
