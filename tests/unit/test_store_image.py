"""nix/host/store-image.sh: the closure-only store as one erofs image, from a store-paths file.

The module runs it in a derivation over `pkgs.closureInfo`; here it runs over a small fake store
with each kind of store path (directory, file, symlink), and fsck.erofs (erofs-utils) unpacks
the image again.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "nix" / "host" / "store-image.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("mkfs.erofs") is None or shutil.which("fsck.erofs") is None,
    reason="erofs-utils is not installed (scripts/install.sh installs it)",
)


def _store(tmp_path: Path) -> list[Path]:
    store = tmp_path / "store"
    store.mkdir()
    package = store / "aaaa-hello-2.12"
    (package / "bin").mkdir(parents=True)
    (package / "bin" / "hello").write_text("#!/bin/sh\necho hello\n")
    (package / "bin" / "hello").chmod(0o555)
    config = store / "bbbb-hello.conf"
    config.write_text("greeting = hi\n")
    alias = store / "cccc-hello-alias"
    alias.symlink_to(package)
    (store / "dddd-not-in-the-closure").write_text("host only\n")
    return [package, config, alias]


def _build(tmp_path: Path, paths: list[Path], image: str = "store.erofs") -> Path:
    listing = tmp_path / "store-paths"
    listing.write_text("".join(f"{p}\n" for p in paths))
    subprocess.run(
        ["sh", str(SCRIPT), str(listing), str(tmp_path / image)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    return tmp_path / image


def _unpack(image: Path, into: Path) -> Path:
    subprocess.run(["fsck.erofs", f"--extract={into}", str(image)], capture_output=True, check=True)
    return into


def test_the_image_holds_exactly_the_closure(tmp_path: Path) -> None:
    package, config, alias = _store(tmp_path)
    store = _unpack(_build(tmp_path, [package, config, alias]), tmp_path / "unpacked")

    # the image's root is the /nix/store the container sees: the closure and nothing else
    assert sorted(p.name for p in store.iterdir()) == [
        "aaaa-hello-2.12",
        "bbbb-hello.conf",
        "cccc-hello-alias",
    ]
    assert (store / package.name / "bin" / "hello").read_text() == "#!/bin/sh\necho hello\n"
    assert (store / package.name / "bin" / "hello").stat().st_mode & 0o777 == 0o555
    assert (store / config.name).read_text() == "greeting = hi\n"
    # a symlink stays one (its target is in the closure too)
    assert os.readlink(store / alias.name) == str(package)
    # the scratch copy is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "store",
        "store-paths",
        "store.erofs",
        "unpacked",
    ]


def test_the_same_closure_gives_the_same_image(tmp_path: Path) -> None:
    paths = _store(tmp_path)
    first = _build(tmp_path, paths, "first.erofs")
    for path in paths:  # other times of the copies must not matter
        os.utime(path, (1_000_000, 1_000_000), follow_symlinks=False)
    second = _build(tmp_path, paths, "second.erofs")
    assert first.read_bytes() == second.read_bytes()


def test_a_missing_path_or_an_empty_closure_fails(tmp_path: Path) -> None:
    for listed in (f"{tmp_path / 'store' / 'eeee-gone'}\n", ""):
        listing = tmp_path / "store-paths"
        listing.write_text(listed)
        result = subprocess.run(
            ["sh", str(SCRIPT), str(listing), str(tmp_path / "store.erofs")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert result.stderr
