"""Repository-wide pytest configuration.

The scenario plugin itself (:mod:`harness.plugin`) is registered through the ``pytest11`` entry
point in ``pyproject.toml``, so ``pytest scenarios/`` works from any directory once the project is
installed; registering it here as well would load it twice.  ``pytester`` serves the plugin's own
tests under ``tests/``; ``tests.tiers`` ends every session with one line per test tier.
"""

pytest_plugins = ("pytester", "tests.tiers")
