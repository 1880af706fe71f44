"""userns, store-readonly and no-nix-daemon against scripted evidence."""

import re

import pytest
from checks_fakes import TOPOLOGY, make_rig

from harness.checks import Topology

WEB_BASE, DB_BASE = 0x80000, 0x140000


def kernel_map(base, count=65536, inside=0):
    return f"{inside:>10} {base:>10} {count:>10}\n"


@pytest.fixture
def maps(rig):
    """uid/gid maps by leader pid (web 101, after a restart 102; db 202)."""
    table = {101: kernel_map(WEB_BASE), 102: kernel_map(WEB_BASE), 202: kernel_map(DB_BASE)}
    owners = {101: WEB_BASE, 102: WEB_BASE, 202: DB_BASE}
    m = rig.machine

    def pid(command):
        return int(re.search(r"/proc/(\d+)", command)[1])

    def read(command):
        return (0, table[pid(command)]) if pid(command) in table else (1, "No such file\n")

    m.on("host", r"^cat /proc/\d+/[ug]id_map$", read)
    m.on("host", r"^stat -c %u /proc/\d+$", lambda c: (0, f"{owners[pid(c)]}\n"))
    m.on(
        "host",
        r"^readlink /proc/\d+/ns/user /proc/self/ns/user$",
        (0, "user:[4026532300]\nuser:[4026531837]\n"),
    )

    def restart(command):
        m.set_leader("web", 102)
        return 0, ""

    m.on("host", r"^systemctl restart systemd-nspawn@web\.service$", restart)
    return table


def test_userns_good(rig, maps):
    result = rig.session.check("u", "userns", {"container": "web"})
    assert result.ok, result.message
    assert result.message == (
        "web: container root is host uid 524288 (0x80000..0x8ffff), leader owned by it on the "
        "host, own user namespace; disjoint from db 0x140000..0x14ffff; same range after "
        "restarting systemd-nspawn@web.service"
    )
    assert rig.machine.ran("host", r"^cat ") == [
        "cat /proc/101/uid_map",
        "cat /proc/101/gid_map",
        "cat /proc/202/uid_map",
        "cat /proc/102/uid_map",
    ]
    assert result.evidence["restart"] == "restarting systemd-nspawn@web.service to compare ranges"


def failure(rig):
    result = rig.session.check("u", "userns", {"container": "web"})
    assert not result.ok
    head = result.message.splitlines()[0]
    assert head.startswith(
        "expected web to run in its own user namespace with one 65536-ID "
        "range disjoint from the other containers'; "
    )
    return head


def test_base_not_a_multiple_of_the_range(rig, maps):
    maps[101] = kernel_map(WEB_BASE + 4096)
    head = failure(rig)
    assert "uid_map: base 528384 (0x81000) is not a multiple of 65536" in head
    assert "the leader (container root) is owned by host uid 524288, expected 528384" in head
    assert rig.machine.ran("host", "^systemctl restart") == []


def test_private_users_off(rig, maps):
    maps[101] = kernel_map(0, 4294967295)
    rig.machine.on("host", r"^stat -c %u /proc/101$", (0, "0\n"))
    rig.machine.on("host", r"^readlink", (0, "user:[4026531837]\nuser:[4026531837]\n"))
    head = failure(rig)
    assert "uid_map: range of 4294967295 IDs, expected 65536" in head
    assert "uid_map: container root is host root (base 0, no private users)" in head
    assert "gid_map: container root is host root" in head
    assert "the container shares the host's user namespace (user:[4026531837])" in head


def test_several_map_lines(rig, maps):
    maps[101] = kernel_map(WEB_BASE) + kernel_map(0, 1, inside=65536)
    head = failure(rig)
    assert (
        "uid_map: expected exactly one line '0 BASE 65536', saw '0 524288 65536 / 65536 0 1'"
    ) in head


def test_base_outside_the_container_window(rig, maps):
    maps[101] = kernel_map(0x70000000)
    rig.machine.on("host", r"^stat -c %u /proc/101$", (0, f"{0x70000000}\n"))
    assert "uid_map: base 0x70000000 outside [0x80000, 0x6fff0000)" in failure(rig)


@pytest.mark.parametrize(
    ("db_base", "expected"),
    [
        (WEB_BASE, "ranges overlap: web 0x80000..0x8ffff and db 0x80000..0x8ffff"),
        (WEB_BASE + 0xFFFF, "ranges overlap: web 0x80000..0x8ffff and db 0x8ffff..0x9fffe"),
        (WEB_BASE - 0xFFFF, "ranges overlap: db 0x70001..0x80000 and web 0x80000..0x8ffff"),
    ],
)
def test_overlapping_ranges(rig, maps, db_base, expected):
    maps[202] = kernel_map(db_base)
    assert expected in failure(rig)


def test_adjacent_ranges_do_not_overlap(rig, maps):
    maps[202] = kernel_map(WEB_BASE + 0x10000)
    assert rig.session.check("u", "userns", {"container": "web"}).ok


def test_range_changed_by_a_restart(rig, maps):
    maps[102] = kernel_map(DB_BASE + 65536)
    assert "range changed across a restart: base 0x80000 before, 0x150000 after" in failure(rig)


def test_containers_that_are_not_running_are_not_compared(rig, maps):
    rig.machine.set_leader("db", None)
    result = rig.session.check("u", "userns", {"container": "web"})
    assert result.ok, result.message
    assert "disjoint from no other running container" in result.message
    assert result.evidence["db uid_map"] == "not running: not compared"


STORE_RO = "ro,nosuid,nodev,relatime\n"


def test_store_readonly(rig):
    rig.machine.on("web", r"^findmnt -no OPTIONS /nix/store$", (0, "rw,relatime\n" + STORE_RO))
    rig.machine.on(
        "web",
        r"^touch /nix/store/\.nixos-nspawn-write-test-\w+$",
        (1, "touch: cannot touch '/nix/store/x': Read-only file system\n"),
    )
    result = rig.session.check("s", "store-readonly", {"container": "web"})
    assert result.ok, result.message
    assert result.message == (
        "/nix/store in web is mounted ro,nosuid,nodev,relatime; writing "
        "failed: touch: cannot touch '/nix/store/x': Read-only file system"
    )


def test_store_read_write(rig):
    rig.machine.on("web", r"^findmnt", (0, "rw,relatime,errors=remount-ro\n"))
    rig.machine.on("web", r"^touch ", (1, "touch: cannot touch: Permission denied\n"))
    result = rig.session.check("s", "store-readonly", {"container": "web"})
    assert result.message.startswith(
        "expected /nix/store to be a read-only mount in web; "
        "/nix/store is mounted read-write "
        "(rw,relatime,errors=remount-ro)"
    )


def test_store_writable(rig):
    rig.machine.on("web", r"^findmnt", (0, STORE_RO))
    rig.machine.on("web", r"^touch ", (0, ""))
    rig.machine.on("web", r"^rm -f /nix/store/", (0, ""))
    result = rig.session.check("s", "store-readonly", {"container": "web"})
    assert re.match(
        r"expected /nix/store to be a read-only mount in web; writing "
        r"/nix/store/\.nixos-nspawn-write-test-\w+ succeeded",
        result.message,
    )
    assert len(rig.machine.ran("web", "^rm -f")) == 1


def test_store_not_a_mount_point(rig):
    rig.machine.on("web", r"^findmnt", (1, ""))
    rig.machine.on("web", r"^touch ", (1, "Permission denied"))
    result = rig.session.check("s", "store-readonly", {"container": "web"})
    assert "/nix/store is not a mount point in web" in result.message


def test_store_path_comes_from_the_topology(tmp_path):
    rig = make_rig(tmp_path, Topology(TOPOLOGY.containers, store_path="/usr"))
    rig.machine.on("web", r"^findmnt -no OPTIONS /usr$", (0, STORE_RO))
    rig.machine.on("web", r"^touch /usr/\.nixos-nspawn-write-test-", (1, "Read-only file system"))
    assert rig.session.check("s", "store-readonly", {"container": "web"}).ok


@pytest.fixture
def booted(rig):
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    rig.machine.on(
        "web", r"^set -- ", (0, "absent /nix/var/nix/daemon-socket/socket\nabsent /nix/var\n")
    )
    rig.machine.on("web", r"^cat /proc/\[0-9\]\*/comm", (0, "systemd\nsystemd-journal\nnginx\n"))
    return rig


def test_no_nix_daemon(booted):
    result = booted.session.check("n", "no-nix-daemon", {"container": "web"})
    assert result.ok, result.message
    assert booted.machine.ran("web", "^set -- ") == [
        'set -- /nix/var/nix/daemon-socket/socket /nix/var; for p do if [ -e "$p" ]; then '
        'echo "present $p"; else echo "absent $p"; fi; done'
    ]


def test_daemon_socket_passed_in(booted):
    booted.machine.on(
        "web", r"^set -- ", (0, "present /nix/var/nix/daemon-socket/socket\npresent /nix/var\n")
    )
    result = booted.session.check("n", "no-nix-daemon", {"container": "web"})
    assert result.message.startswith(
        "expected no Nix daemon and no /nix/var in web; /nix/var/nix/daemon-socket/socket "
        "exists; /nix/var exists"
    )


def test_nix_daemon_process(booted):
    booted.machine.on("web", r"^cat /proc", (0, "systemd\nnix-daemon\n"))
    result = booted.session.check("n", "no-nix-daemon", {"container": "web"})
    assert result.message.startswith(
        "expected no Nix daemon and no /nix/var in web; a nix-daemon process runs in the container"
    )
