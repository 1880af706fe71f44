"""Build the manual (``mkdocs.yml``, ``docs/``) with its strict configuration."""

import subprocess
import sys
from pathlib import Path


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of ``config`` into ``site``, by this interpreter's MkDocs."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
