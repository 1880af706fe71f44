"""Collection stays linear in the number of scenario files.

Name clashes were once found by resolving every file of the tree for every collected file; the
number of ``Path.resolve`` calls shows the difference without timing anything.
"""

import pathlib

from test_plugin_collection import DEMO


def resolves_to_collect(pytester, monkeypatch, count: int) -> int:
    scenarios = pytester.path / "scenarios"
    scenarios.mkdir(exist_ok=True)
    for index in range(count):
        (scenarios / f"demo{index}.toml").write_text(DEMO)
    calls = 0
    original = pathlib.Path.resolve

    def counting(self, strict=False):
        nonlocal calls
        calls += 1
        return original(self, strict)

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "resolve", counting)
        result = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([f"{3 * count} tests collected*"])
    return calls


def test_collection_resolves_each_file_a_fixed_number_of_times(pytester, monkeypatch):
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    small = resolves_to_collect(pytester, monkeypatch, 20)
    large = resolves_to_collect(pytester, monkeypatch, 80)  # 60 more files
    assert large - small <= 60 * 4, (small, large)
