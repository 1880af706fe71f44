"""README.md documents every option the modules declare.

docs/options.md is generated from the option declarations (and checked for freshness by the
eval tier); this keeps README's option table from losing an option.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_declared_option() -> None:
    declared = re.findall(r"^### `([^`]+)`$", (ROOT / "docs" / "options.md").read_text(), re.M)
    readme = (ROOT / "README.md").read_text()
    assert declared, "docs/options.md declares no options"
    missing = [name for name in declared if f"`{name}`" not in readme]
    assert not missing, f"README.md does not document {missing}"
