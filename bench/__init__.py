"""``python -m bench``: the harness's performance figures and targets, in one run.

Each concern has a module: :mod:`bench.scenarios` (generated catalogues), :mod:`bench.loading`
(load, validate, render against ``tomllib``), :mod:`bench.collection` (``pytest --collect-only``),
:mod:`bench.host_eval` (the host module's evaluation through the eval tier) and :mod:`bench.vm`
(the runtime VM); :mod:`bench.__main__` runs them and prints the report. See README.md,
"Performance".
"""
