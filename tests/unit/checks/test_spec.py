"""Parameter declarations, validation messages and expectation ids."""

import pytest

from harness.checks import CHECKS, Param, Problem


def test_every_check_and_parameter_says_what_it_is():
    """The check reference in docs/scenarios.md is written from these strings."""
    for spec in CHECKS.values():
        assert spec.doc, spec.name
        assert all(param.doc for param in spec.params), spec.name


def test_node_params_and_defaults():
    reachable = CHECKS["reachable"]
    assert reachable.param("from") == Param(
        "from", str, default="host", node=True, doc=reachable.param("from").doc
    )
    assert reachable.param("to").required
    assert reachable.param("to").node
    assert reachable.param("family").choices == ("ipv4", "ipv6", "link-local")
    assert CHECKS["http"].with_defaults({"to": "web"}) == {
        "from": "host",
        "to": "web",
        "port": 80,
        "path": "/",
        "status": 200,
        "family": "ipv4",
        "by": "address",
        "answer": True,
    }
    assert CHECKS["tcp"].param("port").required
    assert CHECKS["command"].with_defaults({"run": "true"}) == {
        "on": "host",
        "run": "true",
        "exit": 0,
    }


@pytest.mark.parametrize(
    ("check", "params", "problems"),
    [
        ("reachable", {"to": "web"}, []),
        ("reachable", {}, [Problem("to", "required parameter is missing")]),
        (
            "reachable",
            {"to": "web", "colour": "red"},
            [
                Problem(
                    "colour",
                    "unknown parameter for check 'reachable' "
                    "(known: address, by, family, from, to)",
                )
            ],
        ),
        (
            "reachable",
            {"to": "web", "family": "ipv5"},
            [Problem("family", "expected one of 'ipv4', 'ipv6', 'link-local', got 'ipv5'")],
        ),
        ("reachable", {"to": 3}, [Problem("to", "expected a string, got integer 3")]),
        ("reachable", {"to": "host"}, [Problem("to", "`from` and `to` name the same node")]),
        (
            "reachable",
            {"to": "web", "by": "name", "family": "link-local"},
            [Problem("by", 'link-local addresses have no names; use by = "address"')],
        ),
        (
            "unreachable",
            {"to": "web", "by": "mdns", "family": "link-local"},
            [Problem("by", 'link-local addresses have no names; use by = "address"')],
        ),
        (
            "reachable",
            {"to": "web", "by": "mdns", "address": "10.0.0.1"},
            [Problem("address", '`address` and by = "mdns" exclude each other')],
        ),
        (
            "reachable",
            {"to": "web", "by": "dns"},
            [Problem("by", "expected one of 'address', 'name', 'mdns', got 'dns'")],
        ),
        (
            "reachable",
            {"to": "web", "address": "10.0.0.300"},
            [Problem("address", "'10.0.0.300' does not appear to be an IPv4 or IPv6 address")],
        ),
        ("unreachable", {"to": "web", "address": "fe80::1%ve-web", "family": "link-local"}, []),
        (
            "tcp",
            {"to": "web", "port": True},
            [Problem("port", "expected an integer, got boolean True")],
        ),
        ("tcp", {"to": "web", "port": 0}, [Problem("port", "must be within 1..65535, got 0")]),
        ("http", {"to": "web", "path": "index.html"}, [Problem("path", "must start with /")]),
        (
            "http",
            {"to": "web", "path": "/a b"},
            [Problem("path", "must not contain whitespace (percent-encode it, e.g. %20)")],
        ),
        (
            "address",
            {"node": "web", "interface": "host0"},
            [Problem("prefix", "give exactly one of `prefix` or `dhcp = true`")],
        ),
        (
            "address",
            {"node": "web", "interface": "host0", "prefix": "10.0.0.0/8", "dhcp": True},
            [Problem("prefix", "give exactly one of `prefix` or `dhcp = true`")],
        ),
        (
            "address",
            {"node": "web", "interface": "host0", "prefix": "10.0.0.0"},
            [Problem("prefix", "give a prefix length, e.g. 10.0.0.0/24")],
        ),
        ("address", {"node": "web", "interface": "host0", "dhcp": True}, []),
        (
            "userns",
            {"container": "host"},
            [Problem("container", "must name a container, not the host")],
        ),
        (
            "command",
            {"run": "true", "exit": "0"},
            [Problem("exit", "expected an integer, got string '0'")],
        ),
        ("command", {"run": "true\0"}, [Problem("run", "strings cannot contain NUL characters")]),
        (
            "command",
            {"run": "true", "exit": 256},
            [Problem("exit", "must be within 0..255, got 256")],
        ),
        (
            "command",
            {"run": "true", "exit": -1},
            [Problem("exit", "must be within 0..255, got -1")],
        ),
        ("command", {"run": "true", "exit": 255}, []),
        (
            "http",
            {"to": "web", "status": 99},
            [Problem("status", "must be within 100..599, got 99")],
        ),
        (
            "http",
            {"to": "web", "status": 600},
            [Problem("status", "must be within 100..599, got 600")],
        ),
        ("http", {"to": "web", "status": 100}, []),
        (
            "http",
            {"to": "web", "host": "a b"},
            [
                Problem(
                    "host",
                    "must be a non-empty header value without whitespace or control characters",
                )
            ],
        ),
        (
            "http",
            {"to": "web", "host": "x\r\nX-Evil: 1"},
            [
                Problem(
                    "host",
                    "must be a non-empty header value without whitespace or control characters",
                )
            ],
        ),
        (
            "http",
            {"to": "web", "answer": False, "body": "x"},
            [Problem("body", "`answer = false` expects no response: no `body`")],
        ),
        (
            "http",
            {"to": "web", "by": "name", "family": "link-local"},
            [Problem("by", 'link-local addresses have no names; use by = "address"')],
        ),
        (
            "http",
            {"to": "web", "by": "mdns", "family": "link-local"},
            [Problem("by", 'link-local addresses have no names; use by = "address"')],
        ),
        # Every problem at once: the rules still run when another parameter is wrong, on the
        # parameters that are right (a wrong one is not replaced by its default)...
        (
            "reachable",
            {"to": "host", "family": 5},
            [
                Problem("family", "expected a string, got integer 5"),
                Problem("to", "`from` and `to` name the same node"),
            ],
        ),
        (
            "reachable",
            {"from": 5, "to": "host"},
            [Problem("from", "expected a string, got integer 5")],
        ),
        (
            "tcp",
            {"to": "web", "port": 0, "colour": 1},
            [
                Problem("colour", "unknown parameter for check 'tcp' (known: from, port, to)"),
                Problem("port", "must be within 1..65535, got 0"),
            ],
        ),
        # ... and a rule's problem with a parameter already reported wrong is not repeated.
        (
            "address",
            {"node": "web", "interface": "host0", "prefix": 5},
            [Problem("prefix", "expected a string, got integer 5")],
        ),
    ],
)
def test_validate(check, params, problems):
    assert CHECKS[check].validate(params) == problems


def test_bad_cidr_names_the_error():
    (problem,) = CHECKS["address"].validate(
        {"node": "host", "interface": "ve-web", "prefix": "10.0.0.0/33"}
    )
    assert problem.key == "prefix"
    assert str(problem).startswith("prefix: not a network in CIDR notation")


@pytest.mark.parametrize(
    ("check", "params", "expected"),
    [
        ("reachable", {"to": "web"}, "reachable[host->web,ipv4]"),
        (
            "reachable",
            {"from": "web", "to": "host", "family": "ipv6", "by": "name"},
            "reachable[web->host,ipv6,name]",
        ),
        (
            "unreachable",
            {"from": "web", "to": "db", "address": "10.0.0.9"},
            "unreachable[web->db,ipv4,10.0.0.9]",
        ),
        ("reachable", {"from": "db", "to": "web", "by": "mdns"}, "reachable[db->web,ipv4,mdns]"),
        ("http", {"to": "web", "by": "mdns"}, "http[host->web:80/,mdns]"),
        ("address", {"node": "host", "interface": "ve-web", "dhcp": True}, "address[host:ve-web]"),
        ("http", {"to": "web", "path": "/health"}, "http[host->web:80/health]"),
        (
            "http",
            {
                "from": "db",
                "to": "web",
                "family": "ipv6",
                "by": "name",
                "host": "a.b",
                "answer": False,
            },
            "http[db->web:80/,ipv6,name,Host=a.b,no answer]",
        ),
        ("tcp", {"from": "db", "to": "web", "port": 22}, "tcp[db->web:22]"),
        ("ephemeral", {"container": "web"}, "ephemeral[web]"),
        (
            "command",
            {"on": "web", "run": "systemctl  is-active nginx.service && curl -fsS x"},
            "command[web:systemctl is-active nginx.service && cu…]",
        ),
    ],
)
def test_expectation_ids(check, params, expected):
    assert CHECKS[check].expectation_id(params) == expected
