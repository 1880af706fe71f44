"""``python -m bench``: the harness's performance figures and targets, in one run.

Each concern has a module: :mod:`bench.scenarios` (generated catalogues), :mod:`bench.loading`
(load, validate, render against ``tomllib``), :mod:`bench.collection` (``pytest --collect-only``),
:mod:`bench.host_eval` (the host module's evaluation through the eval tier) and :mod:`bench.vm`
(the runtime VM); :mod:`bench.__main__` runs them and prints the report. The targets and the
latest figures: bench/README.md.
"""

import sys
from pathlib import Path

# The runtime VM (:mod:`support.vm`) is test infrastructure under tests/, not part of the wheel.
_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
