"""unit-active and ephemeral against a simulated container file system."""

import re
import shlex
from dataclasses import dataclass, field

import pytest
from checks_fakes import make_rig

from harness.checks import Topology
from harness.checks.lifecycle import ROOT_MARKER_DIRS


@dataclass
class Web:
    """Container web's files: markers in its root vanish on restart unless ``ephemeral`` is
    off (then they also show up in /var/lib/machines/web on the host)."""

    rig: object
    ephemeral: bool = True
    keeps_binds: bool = True
    host_dir: str = ""
    files: set[str] = field(default_factory=set)
    restarts: int = 0

    def install(self):
        m = self.rig.machine
        m.on("web", r"^systemctl is-system-running$", (0, "running\n"))
        m.on("web", r"^echo \w+ > ", self.write)
        m.on("web", r"^set -- ", self.present)
        m.on("web", r"^rm -f ", self.remove)
        m.on("host", r"^systemctl restart systemd-nspawn@web\.service$", self.restart)
        m.on("host", r"^ls -A /var/lib/machines/web$", lambda _: (0, self.host_dir))
        m.on("host", r"^find /var/lib/machines/web -xdev -name ", self.find)
        return self

    def write(self, command):
        for part in command.split(" && "):
            self.files.add(shlex.split(part)[-1])
        return 0, ""

    def present(self, command):
        paths = shlex.split(command.split(";", 1)[0])[2:]
        return 0, "".join(f"{'present' if p in self.files else 'absent'} {p}\n" for p in paths)

    def remove(self, command):
        self.files -= set(shlex.split(command)[2:])
        return 0, ""

    def restart(self, command):
        self.restarts += 1
        binds = {f for f in self.files if f.startswith("/var/lib/web/")}
        if not self.ephemeral:
            return self.new_leader()
        self.files = binds if self.keeps_binds else set()
        return self.new_leader()

    def new_leader(self):
        self.rig.machine.set_leader("web", 101 + self.restarts)
        return 0, ""

    def find(self, command):
        name = shlex.split(command)[-1]
        if self.ephemeral:
            return 0, ""
        hits = [f for f in self.files if f.endswith(name) and not f.startswith("/var/lib/web/")]
        return 0, "".join(f"/var/lib/machines/web{f}\n" for f in sorted(hits))


@pytest.fixture
def web(rig):
    return Web(rig).install()


def test_ephemeral_forgets_root_markers_and_keeps_bind_markers(web, rig):
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert result.ok, result.message
    assert result.message == (
        "4 markers in /, /etc, /var, /root were gone after restarting "
        "systemd-nspawn@web.service; 1 marker(s) in read-write binds were kept; "
        "/var/lib/machines/web on the host holds nothing"
    )
    roots = result.evidence["markers in the container root"].splitlines()
    assert [r.rsplit("/", 1)[0] or "/" for r in roots] == list(ROOT_MARKER_DIRS)
    (bind,) = result.evidence["markers in read-write binds"].splitlines()
    assert bind.startswith("/var/lib/web/.nixos-nspawn-ephemeral-")  # not the read-only bind
    assert web.files == set()  # the kept bind marker was cleaned up
    assert web.restarts == 1
    assert result.evidence["web leader after restart"] == "102"
    written = rig.machine.ran("web", r"^echo ")[0]
    assert written.count(" && ") == 4


def test_marker_that_survives_a_restart_fails(rig):
    web = Web(rig, ephemeral=False).install()
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert not result.ok
    first = result.message.splitlines()[0]
    assert first.startswith(
        "expected web to forget everything outside its binds across a restart of "
        "systemd-nspawn@web.service; marker survived the restart: /.nixos-nspawn-ephemeral-"
    )
    # Every marker directory of the container is reported, each once.
    survived = re.findall(r"marker survived the restart: (\S*)/\.nixos-nspawn-ephemeral-", first)
    assert sorted(survived) == sorted(["", "/etc", "/var", "/root"])
    assert "marker written to the host's /var/lib/machines/web: /var/lib/machines/web/etc/" in first
    assert web.files == set()  # cleaned up even so


def test_lost_bind_marker_fails(rig):
    Web(rig, keeps_binds=False).install()
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert (
        "marker in a read-write bind was lost: /var/lib/web/.nixos-nspawn-ephemeral-"
        in result.message
    )


def test_files_in_the_machine_directory_fail_unless_they_are_the_skeleton(rig, tmp_path):
    Web(rig, host_dir="etc\nusr\nleftover\n").install()
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert "/var/lib/machines/web on the host is not empty: etc leftover usr" in result.message

    skeleton = make_rig(
        tmp_path / "s", Topology(rig.session.topology.containers, root_skeleton=("etc", "usr"))
    )
    Web(skeleton, host_dir="etc\nusr\nleftover\n").install()
    result = skeleton.session.check("e", "ephemeral", {"container": "web"})
    assert "/var/lib/machines/web on the host is not empty: leftover" in result.message


def test_missing_machine_directory_fails(rig, web):
    rig.machine.on(
        "host",
        r"^ls -A",
        (2, "ls: cannot access '/var/lib/machines/web': No such file or directory\n"),
    )
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert "/var/lib/machines/web is missing on the host: ls: cannot access" in result.message


def test_unwritable_markers_fail_before_restarting(rig, web):
    rig.machine.on("web", r"^echo ", (1, "sh: can't create /etc/.marker: Read-only file system"))
    result = rig.session.check("e", "ephemeral", {"container": "web"})
    assert result.message.startswith("could not write the markers in web (exit 1)")
    assert web.restarts == 0


def test_unit_active(rig):
    rig.machine.on(
        "host",
        r"^systemctl show -p ActiveState --value systemd-nspawn@web\.service$",
        (0, "activating\n"),
        (0, "active\n"),
    )
    rig.machine.on("host", r"^machinectl show web -p State --value$", (0, "running\n"))
    result = rig.session.check("u", "unit-active", {"container": "web"})
    assert result.ok, result.message
    assert result.message == (
        "systemd-nspawn@web.service is active; machined has web "
        "registered (leader 101, state running)"
    )


def test_unit_active_but_not_registered(rig):
    rig.machine.on("host", r"^systemctl show -p ActiveState", (0, "active\n"))
    rig.machine.set_leader("web", None)
    result = rig.session.check("u", "unit-active", {"container": "web"})
    assert result.message.startswith("container web is not registered with machined after 5s")
