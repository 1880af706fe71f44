"""reachable, unreachable, address, http, tcp against scripted evidence."""

import shlex

import pytest
from checks_fakes import ip4, ip6, make_rig

from harness.checks import Container, Topology

REPLY = (0, "1 packets transmitted, 1 received, 0% packet loss\n")
SILENCE = (1, "1 packets transmitted, 0 received, 100% packet loss\n")


@pytest.fixture
def net(rig):
    m = rig.machine
    v4, v6, link = (
        rf"^ip -{f} -o addr show dev host0 scope {s}$"
        for f, s in (("4", "global"), ("6", "global"), ("6", "link"))
    )
    m.on("web", v4, (0, ip4("host0", "10.0.0.2/28", True)))
    m.on("web", v6, (0, ip6("host0", "fc42::2/64")))
    m.on("web", link, (0, ip6("host0", "fe80::2/64", "link")))
    m.on("db", v4, (0, ip4("host0", "10.0.1.2/24", True)))
    m.on("db", link, (0, ip6("host0", "fe80::3/64", "link")))
    m.on(
        "web",
        r"^ip -4 route show default$",
        (0, "default via 10.0.0.1 dev host0 proto dhcp src 10.0.0.2 metric 1024\n"),
    )
    # systemd 252 puts two pool addresses on ve-web; only 10.0.0.1 serves web.
    m.on(
        "host",
        r"^ip -4 -o addr show dev ve-web scope global$",
        (0, ip4("ve-web", "10.0.0.17/28") + ip4("ve-web", "10.0.0.1/28")),
    )
    m.on(
        "host",
        r"^ip -6 -o addr show dev ve-web scope global$",
        (0, ip6("ve-web", "fd00::1/64") + ip6("ve-web", "fc42::1/64")),
    )
    m.on(
        "host",
        r"^ip -6 -o addr show dev ve-web scope link$",
        (0, ip6("ve-web", "fe80::1/64", "link")),
    )
    return rig


def host_line(command):
    return f"sh -c {shlex.quote(command)} 2>&1"


def test_reachable_host_to_container_retries_until_the_reply(net):
    net.machine.on("host", r"^ping ", SILENCE, SILENCE, REPLY)
    result = net.session.check("r", "reachable", {"to": "web"})
    assert result.ok, result.message
    assert result.message == "host reached web at 10.0.0.2 (ipv4)"
    assert net.machine.lines.count(host_line("ping -4 -n -c 1 -W 2 10.0.0.2")) == 3
    assert result.evidence["target address"] == "10.0.0.2"
    assert result.evidence["host$ ping -4 -n -c 1 -W 2 10.0.0.2"].startswith("exit 0 (attempt 3")


def test_reachable_fails_with_the_last_ping_as_evidence(net):
    net.machine.on("host", r"^ping ", SILENCE)
    result = net.session.check("r", "reachable", {"to": "web"})
    assert not result.ok
    assert result.message.startswith(
        "expected host to reach web at 10.0.0.2 (ipv4); no echo reply within 5s, last ping "
        "exited 1\nevidence:"
    )
    assert "    | 1 packets transmitted, 0 received, 100% packet loss" in result.message


def test_container_reaches_host_through_its_default_gateway(net):
    net.machine.on("web", r"^ping ", REPLY)
    result = net.session.check("r", "reachable", {"from": "web", "to": "host"})
    assert result.ok, result.message
    assert net.machine.ran("web", "^ping") == ["ping -4 -n -c 1 -W 2 10.0.0.1"]
    assert net.machine.ran("host", "ip -4 -o addr") == []


def test_without_a_gateway_the_host_address_shares_the_containers_subnet(net):
    net.machine.on("web", r"^ip -4 route show default$", (0, ""))
    net.machine.on("web", r"^ping ", REPLY)
    result = net.session.check("r", "reachable", {"from": "web", "to": "host"})
    assert result.ok, result.message
    assert net.machine.ran("web", "^ping") == ["ping -4 -n -c 1 -W 2 10.0.0.1"]


def test_host_ipv6_address_shares_the_containers_prefix(net):
    net.machine.on("web", r"^ping ", REPLY)
    result = net.session.check("r", "reachable", {"from": "web", "to": "host", "family": "ipv6"})
    assert result.ok, result.message
    assert net.machine.ran("web", "^ping") == ["ping -6 -n -c 1 -W 2 fc42::1"]


def test_unknown_host_address_asks_for_a_literal(net):
    net.machine.on("web", r"^ip -4 route show default$", (0, ""))
    net.machine.on("host", r"^ip -4 -o addr show dev ve-web", (0, ip4("ve-web", "10.9.9.1/28")))
    result = net.session.check("r", "reachable", {"from": "web", "to": "host"})
    assert result.message.startswith(
        "cannot tell the host's ipv4 address from web: no default gateway and no address on the "
        "host's ve-web in web's network 10.0.0.0/28"
    )
    assert "give `address` to use a literal one" in result.message


@pytest.mark.parametrize(
    ("src", "dst", "node", "expected"),
    [
        ("host", "web", "host", "ping -6 -n -c 1 -W 2 fe80::2%ve-web"),
        ("host", "db", "host", "ping -6 -n -c 1 -W 2 fe80::3%vz-lab"),
        ("web", "host", "web", "ping -6 -n -c 1 -W 2 fe80::1%host0"),
        ("db", "web", "db", "ping -6 -n -c 1 -W 2 fe80::2%host0"),
    ],
)
def test_link_local_addresses_carry_the_senders_scope(net, src, dst, node, expected):
    net.machine.on(node, r"^ping ", REPLY)
    result = net.session.check("r", "reachable", {"from": src, "to": dst, "family": "link-local"})
    assert result.ok, result.message
    assert net.machine.ran(node, "^ping") == [expected]


def test_literal_address_is_pinged_as_given(net):
    net.machine.on("web", r"^ping ", REPLY)
    result = net.session.check(
        "r", "reachable", {"from": "web", "to": "db", "address": "192.168.7.1"}
    )
    assert result.ok
    assert net.machine.ran("web", "^ping") == ["ping -4 -n -c 1 -W 2 192.168.7.1"]
    assert net.machine.ran("db", ".") == []


def test_by_name_pings_the_container_name_or_the_hosts_name(net):
    net.machine.on("host", r"^ping ", REPLY)
    net.machine.on("host", r"^uname -n$", (0, "host\n"))
    net.machine.on("web", r"^ping ", REPLY)
    assert net.session.check("a", "reachable", {"to": "web", "by": "name"}).ok
    assert net.session.check("b", "reachable", {"from": "web", "to": "host", "by": "name"}).ok
    assert net.machine.ran("host", "^ping") == ["ping -4 -n -c 1 -W 2 web"]
    assert net.machine.ran("web", "^ping") == ["ping -4 -n -c 1 -W 2 host"]


def test_by_mdns_pings_the_local_name_of_a_container_or_the_host(net):
    net.machine.on("host", r"^ping ", REPLY)
    net.machine.on("host", r"^uname -n$", (0, "host\n"))
    net.machine.on("db", r"^ping ", REPLY)
    net.machine.on("web", r"^ping ", REPLY)
    result = net.session.check("a", "reachable", {"to": "web", "by": "mdns"})
    assert result.message == "host reached web at web.local (ipv4)"
    assert net.session.check("b", "reachable", {"from": "db", "to": "web", "by": "mdns"}).ok
    assert net.session.check("c", "reachable", {"from": "web", "to": "host", "by": "mdns"}).ok
    assert net.machine.ran("host", "^ping") == ["ping -4 -n -c 1 -W 2 web.local"]
    assert net.machine.ran("db", "^ping") == ["ping -4 -n -c 1 -W 2 web.local"]
    assert net.machine.ran("web", "^ping") == ["ping -4 -n -c 1 -W 2 host.local"]


def test_container_without_a_link_fails_at_once(tmp_path):
    rig = make_rig(tmp_path, Topology((Container("solo", None, False),)))
    rig.machine.set_leader("solo", 404)
    result = rig.session.check("r", "reachable", {"to": "solo"})
    assert result.message.startswith("container solo has neither a veth link nor a zone")
    assert rig.clock.now < 1


def test_unreachable_passes_on_silence_after_both_ends_are_up(net):
    net.machine.on("web", r"^ping ", SILENCE)
    result = net.session.check("u", "unreachable", {"from": "web", "to": "db"})
    assert result.ok, result.message
    assert result.message == "web did not reach db at 10.0.1.2 (ipv4): no echo reply to 3 pings"
    calls = [inner for node, inner in net.machine.calls if node != "host"]
    assert calls == [
        "ip -4 -o addr show dev host0 scope global",  # web has its address ...
        "ip -4 -o addr show dev host0 scope global",  # ... db has one to ping ...
        "ping -4 -n -c 3 -i 1 -w 5 -W 2 10.0.1.2",  # ... and then web pings once
    ]
    assert net.clock.now < 2


def test_unreachable_fails_on_a_reply(net):
    net.machine.on("web", r"^ping ", (0, "3 packets transmitted, 1 received, 66% packet loss\n"))
    result = net.session.check("u", "unreachable", {"from": "web", "to": "db"})
    assert not result.ok
    assert result.message.startswith(
        "expected web not to reach db at 10.0.1.2 (ipv4), but it got an echo reply"
    )
    assert "66% packet loss" in result.message


def test_unreachable_needs_an_address_to_ping(net):
    net.machine.on("db", r"^ip -4 -o addr", (0, ""))
    result = net.session.check("u", "unreachable", {"from": "web", "to": "db"})
    assert result.message.startswith("container db has no ipv4 address on host0 (waited 5s)")


def test_unreachable_by_name_counts_a_failed_lookup(net):
    net.machine.on("web", r"^ping ", (2, "ping: db: Name or service not known\n"))
    result = net.session.check("u", "unreachable", {"from": "web", "to": "db", "by": "name"})
    assert result.ok
    assert result.message == "web did not reach db at db (ipv4): ping failed with exit 2 to 3 pings"


def test_address_in_prefix(net):
    net.machine.on(
        "host",
        r"^ip -o addr show dev ve-web$",
        (0, ip4("ve-web", "10.0.0.17/28") + ip4("ve-web", "10.0.0.1/28")),
    )
    result = net.session.check(
        "a", "address", {"node": "host", "interface": "ve-web", "prefix": "10.0.0.0/28"}
    )
    assert result.ok, result.message
    assert result.message == "host:ve-web holds 10.0.0.1/28 in 10.0.0.0/28"
    assert net.machine.ran("host", "^ip") == ["ip -o addr show dev ve-web"]


def test_address_outside_prefix_lists_what_was_seen(net):
    net.machine.on(
        "host",
        r"^ip -o addr show dev ve-web$",
        (0, ip4("ve-web", "10.0.0.1/28") + ip6("ve-web", "fe80::1/64", "link")),
    )
    result = net.session.check(
        "a", "address", {"node": "host", "interface": "ve-web", "prefix": "192.168.42.0/24"}
    )
    assert not result.ok
    assert result.message.startswith(
        "expected an address in 192.168.42.0/24 on host:ve-web; saw 10.0.0.1/28, fe80::1/64"
    )


def test_address_on_a_missing_interface(net):
    net.machine.on("web", r"^ip -o addr show dev eth9$", (1, 'Device "eth9" does not exist.\n'))
    result = net.session.check(
        "a", "address", {"node": "web", "interface": "eth9", "prefix": "10.0.0.0/8"}
    )
    assert result.message.startswith(
        "expected an address in 10.0.0.0/8 on web:eth9; saw no such interface or no answer "
        '(exit 1: Device "eth9" does not exist.)'
    )


def test_dhcp_lease_is_a_dynamic_address(net):
    net.machine.on("web", r"^ip -4 -o addr show dev host0$", (0, ip4("host0", "10.0.0.2/28", True)))
    net.machine.on("web", r"^networkctl status", (0, "Address: 10.0.0.2 (DHCP4 via 10.0.0.1)\n"))
    result = net.session.check("a", "address", {"node": "web", "interface": "host0", "dhcp": True})
    assert result.ok, result.message
    assert result.message.startswith("web:host0 holds 10.0.0.2/28 from a DHCP lease")
    assert "DHCP4 via 10.0.0.1" in result.evidence["web$ networkctl status --no-pager host0"]


def test_static_address_is_no_dhcp_lease(net):
    net.machine.on("web", r"^ip -4 -o addr show dev host0$", (0, ip4("host0", "192.168.42.2/24")))
    net.machine.on("web", r"^networkctl status", (0, ""))
    result = net.session.check("a", "address", {"node": "web", "interface": "host0", "dhcp": True})
    assert result.message.startswith(
        "expected a DHCP lease (an ipv4 address flagged dynamic) on web:host0; "
        "saw 192.168.42.2/24\n"
    )


HTTP_OK = (0, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 15\r\n\r\nhack the planet")


def http_command(address, port, path, host=None):
    script = (
        'exec 3<>"/dev/tcp/$1/$2" && '
        'printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" '
        '"$3" "$4" >&3 && cat <&3'
    )
    args = " ".join(shlex.quote(str(a)) for a in (address, port, path, host or address))
    return f"timeout 10 bash -c {shlex.quote(script)} bash {args}"


def test_http_status_and_body(net):
    net.machine.on("host", r"^timeout 10 bash", (1, "connection refused"), HTTP_OK)
    result = net.session.check("h", "http", {"to": "web", "path": "/a'b", "body": "planet"})
    assert result.ok, result.message
    assert (
        result.message == "GET http://10.0.0.2:80/a'b from host answered 200 with a body "
        "containing 'planet'"
    )
    assert net.machine.ran("host", "^timeout") == [http_command("10.0.0.2", 80, "/a'b")] * 2


def test_http_wrong_status_and_body(net):
    net.machine.on(
        "host", r"^timeout 10 bash", (0, "HTTP/1.1 502 Bad Gateway\r\n\r\n<h1>502 Bad Gateway</h1>")
    )
    result = net.session.check("h", "http", {"to": "web", "body": "planet"})
    assert result.message.startswith(
        "expected GET http://10.0.0.2:80/ from host to answer status 200 and a body containing "
        "'planet'; saw status 502, body '<h1>502 Bad Gateway</h1>'"
    )


def test_http_without_a_response(net):
    net.machine.on("web", r"^timeout 10 bash", (1, "bash: connect: Connection refused\n"))
    result = net.session.check("h", "http", {"from": "web", "to": "web", "port": 8080})
    assert result.message.startswith(
        "expected GET http://127.0.0.1:8080/ from web to answer status 200; saw no HTTP "
        "response (exit 1)"
    )


def test_http_with_a_host_header_and_a_status(net):
    net.machine.on("host", r"^timeout 10 bash", (0, "HTTP/1.1 404 Not Found\r\n\r\nnope"))
    result = net.session.check("h", "http", {"to": "web", "host": "other.example", "status": 404})
    assert result.ok, result.message
    assert result.message == (
        "GET http://10.0.0.2:80/ (Host: other.example) from host answered 404"
    )
    assert net.machine.ran("host", "^timeout") == [
        http_command("10.0.0.2", 80, "/", "other.example")
    ]


def test_http_over_ipv6_and_link_local(net):
    net.machine.on("host", r"^timeout 10 bash", HTTP_OK)
    result = net.session.check("h", "http", {"to": "web", "family": "ipv6"})
    assert result.message == "GET http://[fc42::2]:80/ from host answered 200"
    result = net.session.check("h", "http", {"to": "web", "family": "link-local"})
    assert result.message == "GET http://[fe80::2%ve-web]:80/ from host answered 200"
    assert net.machine.ran("host", "^timeout") == [
        http_command("fc42::2", 80, "/", "[fc42::2]"),
        http_command("fe80::2%ve-web", 80, "/", "[fe80::2%25ve-web]"),
    ]


def test_http_by_name_container_to_container(net):
    net.machine.on("db", r"^timeout 10 bash", HTTP_OK)
    result = net.session.check("h", "http", {"from": "db", "to": "web", "by": "name"})
    assert result.ok, result.message
    assert net.machine.ran("db", "^timeout") == [http_command("web", 80, "/")]


def test_http_by_mdns_asks_for_the_local_name(net):
    net.machine.on("db", r"^timeout 10 bash", HTTP_OK)
    result = net.session.check("h", "http", {"from": "db", "to": "web", "by": "mdns"})
    assert result.ok, result.message
    assert net.machine.ran("db", "^timeout") == [http_command("web.local", 80, "/")]


def test_http_negative_form(net):
    net.machine.on(
        "db", r"^ip -4 -o addr show dev host0 scope global$", (0, ip4("host0", "10.0.1.2/24", True))
    )
    net.machine.on("db", r"^timeout 10 bash", (1, "bash: connect: Connection refused\n"))
    result = net.session.check("h", "http", {"from": "db", "to": "web", "answer": False})
    assert result.ok, result.message
    assert result.message == "GET http://10.0.0.2:80/ from db got no HTTP response (exit 1)"
    assert len(net.machine.ran("db", "^timeout")) == 1  # one request, no retries
    net.machine.on("db", r"^timeout 10 bash", HTTP_OK)
    result = net.session.check("h", "http", {"from": "db", "to": "web", "answer": False})
    assert result.message.startswith(
        "expected GET http://10.0.0.2:80/ from db to get no HTTP response; it answered "
        "status 200, body 'hack the planet'"
    )


def test_tcp(net):
    net.machine.on("db", r"^timeout 10 bash", (1, "refused"), (0, ""))
    result = net.session.check("t", "tcp", {"from": "db", "to": "web", "port": 22})
    assert result.ok, result.message
    script = shlex.quote('exec 3<>"/dev/tcp/$1/$2"')
    assert net.machine.ran("db", "^timeout")[-1] == f"timeout 10 bash -c {script} bash 10.0.0.2 22"


def test_tcp_refused(net):
    net.machine.on("host", r"^timeout 10 bash", (1, "bash: connect: Connection refused\n"))
    result = net.session.check("t", "tcp", {"to": "web", "port": 22})
    assert result.message.startswith(
        "expected host to connect to web at 10.0.0.2:22/tcp; last attempt exited 1 "
        "(bash: connect: Connection refused)"
    )
