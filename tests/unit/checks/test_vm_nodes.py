"""Plain NixOS VM nodes besides the host (``outside``): commands run on their own machine,
and network checks reach them on the test network (eth1)."""

import pytest
from checks_fakes import TOPOLOGY, FakeMachine, Rig, ip4, ip6
from test_network import net as net  # the network fixture, reused

from harness.checks import Session


@pytest.fixture
def outside(net: Rig, tmp_path) -> tuple[Rig, FakeMachine]:
    vm = FakeMachine(net.clock)
    vm.on("host", r"^ip -4 -o addr show dev eth1 scope global$", (0, ip4("eth1", "192.168.1.2/24")))
    vm.on(
        "host",
        r"^ip -6 -o addr show dev eth1 scope link$",
        (0, ip6("eth1", "fe80::5054:ff:fe12:3402/64", "link")),
    )
    net.machine.on(
        "host", r"^ip -4 -o addr show dev eth1 scope global$", (0, ip4("eth1", "192.168.1.1/24"))
    )
    net.session = Session(
        net.machine, TOPOLOGY, str(tmp_path), timeout=5, clock=net.clock, nodes={"outside": vm}
    )
    return net, vm


def test_command_runs_on_the_nodes_own_machine(outside) -> None:
    rig, vm = outside
    vm.on("host", r"^hostname$", (0, "outside\n"))
    result = rig.session.check(
        "c", "command", {"on": "outside", "run": "hostname", "output": "outside"}
    )
    assert result.ok, result.message
    assert vm.calls == [("host", "hostname")]
    assert rig.machine.calls == []


def test_container_reaches_the_outside_node_through_the_host(outside) -> None:
    rig, vm = outside
    rig.machine.on("web", r"^ping -4 -n -c 1 -W 2 192\.168\.1\.2$", (0, "1 received"))
    result = rig.session.check("r", "reachable", {"from": "web", "to": "outside"})
    assert result.ok, result.message
    assert result.message == "web reached outside at 192.168.1.2 (ipv4)"
    assert vm.ran("host", "^ip -4 -o addr show dev eth1") != []


def test_outside_reaches_the_host_on_the_test_network(outside) -> None:
    rig, vm = outside
    vm.on("host", r"^timeout 10 bash", (0, "HTTP/1.0 200 OK\r\n\r\nhello"))
    result = rig.session.check("h", "http", {"from": "outside", "to": "host", "body": "hello"})
    assert result.ok, result.message
    assert (
        result.message == "GET http://192.168.1.1:80/ from outside answered 200 with a body "
        "containing 'hello'"
    )


def test_link_local_to_a_node_needs_a_shared_link(outside) -> None:
    rig, _ = outside
    rig.machine.on("host", r"^ping -6 -n -c 1 -W 2 fe80::5054:ff:fe12:3402%eth1$", (0, ""))
    result = rig.session.check("r", "reachable", {"to": "outside", "family": "link-local"})
    assert result.ok, result.message
    result = rig.session.check(
        "r", "reachable", {"from": "web", "to": "outside", "family": "link-local"}
    )
    assert result.message.startswith(
        "web has no link to outside: link-local addresses stay on a link"
    )


def test_a_node_is_no_container(outside) -> None:
    rig, _ = outside
    result = rig.session.check("u", "userns", {"container": "outside"})
    assert result.message.startswith("invalid parameters: container: unknown node 'outside'")
