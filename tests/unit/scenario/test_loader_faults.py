"""The v3 constructs: fault steps, marks and the lifecycle expectations that name them, each
bad parameter reported as ``file:line: key: message``."""

from test_steps_specialisations_nodes import errors, load

from harness.render.nixos_test import render_test_script

HEAD = """\
description = "faults"

[containers.web]
config = "{ }"

[containers.db]
config = "{ }"
"""

GOOD = (
    HEAD
    + """
[[step]]
action = "mark"
name = "start"

[[step]]
action = "partition"
between = "web"
and = "db"

[[expect]]
check = "unreachable"
from = "web"
to = "db"

[[step]]
action = "heal"
between = "db"
and = "web"

[[step]]
action = "kill"
container = "web"

[[step]]
action = "kill-unit"
container = "db"
unit = "nginx.service"
then = "stays-down"

[[expect]]
check = "restarted"
container = "web"
since = "start"

[[expect]]
check = "unchanged"
container = "db"
since = "start"
"""
)


def test_fault_steps_and_marks_load_and_render(tmp_path):
    scenario = load(tmp_path, GOOD)
    assert [e.id for e in scenario.program] == [
        "mark[start]",
        "partition[web|db]",
        "unreachable[web->db,ipv4]",
        "heal[db|web]",
        "kill[web]",
        "kill-unit[db:nginx.service]",
        "restarted[web@start]",
        "unchanged[db@start]",
    ]
    script = render_test_script(scenario)
    assert 'session.step("kill[web]", "kill", {"then": "restarts", "container": "web"})' in script
    assert '{"between": "web", "and": "db"}' in script


def test_a_since_needs_a_mark_above_it(tmp_path):
    text = GOOD.replace('name = "start"', 'name = "later"')
    assert errors(tmp_path, text) == [
        "41: expect[1].since: no mark 'start' above this expectation (a [[step]] with action "
        "= \"mark\" and name = 'start') (known: later)",
        "46: expect[2].since: no mark 'start' above this expectation (a [[step]] with action "
        "= \"mark\" and name = 'start') (known: later)",
    ]
    below = HEAD + (
        '[[expect]]\ncheck = "unchanged"\ncontainer = "web"\nsince = "m"\n\n'
        '[[step]]\naction = "mark"\nname = "m"\n\n[[expect]]\ncheck = "userns"\ncontainer = "web"\n'
    )
    assert errors(tmp_path, below) == [
        "11: expect[0].since: no mark 'm' above this expectation (a [[step]] with action = "
        "\"mark\" and name = 'm')"
    ]


def test_bad_fault_parameters_are_located(tmp_path):
    text = HEAD + (
        '[[step]]\naction = "mark"\nname = "Start Here"\n\n'
        '[[step]]\naction = "mark"\nname = "a"\n\n'
        '[[step]]\naction = "mark"\nname = "a"\n\n'
        '[[step]]\naction = "partition"\nbetween = "web"\nand = "web"\n\n'
        '[[step]]\naction = "heal"\nbetween = "web"\nand = "nowhere"\n\n'
        '[[step]]\naction = "kill"\ncontainer = "host"\nthen = "maybe"\n\n'
        '[[step]]\naction = "kill-unit"\ncontainer = "web"\nunit = "-x; reboot"\n\n'
        '[[step]]\naction = "freeze"\ncontainer = "web"\nfor = 3\n\n'
        '[[expect]]\ncheck = "unchanged"\ncontainer = "db"\nsince = "a"\n'
    )
    assert errors(tmp_path, text) == [
        "10: step[0].name: invalid mark name 'Start Here': use a-z, 0-9 and '-'",
        "18: step[2].name: mark 'a' is already recorded above",
        "23: step[3].and: must name another node than `between`",
        "28: step[4].and: unknown node 'nowhere' (known: host, web, db)",
        "32: step[5].container: must name a container, not the host",
        "33: step[5].then: expected one of 'restarts', 'stays-down', got 'maybe'",
        "38: step[6].unit: not a service unit name: '-x; reboot' (systemd's grammar: letters, "
        "digits, ':_.-\\', an optional @instance, the suffix .service; at most 255 characters)",
        "43: step[7].for: unknown parameter for step 'freeze' (known: container)",
    ]
