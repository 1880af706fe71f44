"""Regenerate what is derived from the module: `python tests/eval/export_reference.py`.

- tests/reference/<case>.json: the unit settings of every case of tests/eval/cases.nix that
  passes its assertions (the runtime tier renders them to real .nspawn/.network files; see
  docs/architecture.md, "Interfaces");
- docs/options.md: the option reference.
test_reference_export.py fails when a committed file differs from what the module produces.
"""

import sys

from nspawn_eval import (
    REFERENCE_DIR,
    find_nixpkgs_lib,
    missing_lib_reason,
    reference_cases,
    reference_path,
    reference_text,
    report,
)
from options_doc import OPTIONS_DOC, render


def main() -> int:
    lib = find_nixpkgs_lib()
    if lib is None:
        print(f"cannot export: {missing_lib_reason()}", file=sys.stderr)
        return 1
    cases = reference_cases(lib)
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    for stale in sorted(REFERENCE_DIR.glob("*.json")):
        if stale.stem not in cases:
            stale.unlink()
            print(f"removed {stale}")
    for case in cases:
        path = reference_path(case)
        path.write_text(reference_text(report(lib, case)["reference"]))
        print(f"wrote {path}")
    OPTIONS_DOC.parent.mkdir(parents=True, exist_ok=True)
    OPTIONS_DOC.write_text(render(lib))
    print(f"wrote {OPTIONS_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
