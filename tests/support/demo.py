"""The demo scenario of the plugin and runner tests: one container, two expectations."""

DEMO = """\
description = "demo"
timeout = 120

[containers.web]
config = "{ }"

[[expect]]
check = "unit-active"
container = "web"

[[expect]]
check = "reachable"
to = "web"
"""

DEMO_IDS = ("unit-active[web]", "reachable[host->web,ipv4]")
"""The demo's expectation ids, in file order."""
