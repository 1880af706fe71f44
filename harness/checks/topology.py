"""The shape of the host's containers, as far as the checks need to know it.

The generated testScript builds a :class:`Topology` from the scenario; the runtime tier builds
one for its Debian VM. Checks take interface names, bind mounts and the store path from here
instead of guessing them inside the VM.
"""

from dataclasses import dataclass

from .names import interface_name_problem, machine_name_problem

STORE = "/nix/store"
"""Where a NixOS container sees the host's store, bound read-only (``store-readonly`` checks it).
The runtime tier's Debian containers bind ``/usr`` instead and say so via
:attr:`Topology.store_path`."""

MACHINES_DIR = "/var/lib/machines"
"""Where ``systemd-nspawn@.service`` finds a container's root directory on the host."""


@dataclass(frozen=True)
class Bind:
    """A bind mount into a container; ``path`` is the path *inside* the container."""

    path: str
    read_only: bool

    def __post_init__(self) -> None:
        # Paths below it reach `rm -f` and `find` command lines: absolute, never an option.
        if not self.path.startswith("/"):
            raise ValueError(f"bind path {self.path!r} is not absolute")


@dataclass(frozen=True)
class Container:
    """One container: its machine name, its network attachment, its bind mounts, and whether
    it starts at boot.

    ``zone`` set means the container's veth is enslaved to the host bridge ``vz-<zone>``;
    otherwise ``veth`` means a point-to-point link whose host side is ``ve-<name>``.
    ``auto_start``: ``machines.target`` starts it at boot (the module's ``autoStart``), so it
    comes back after the host reboots.
    """

    name: str
    zone: str | None
    veth: bool
    binds: tuple[Bind, ...] = ()
    auto_start: bool = True

    def __post_init__(self) -> None:
        # The name reaches `machinectl` and `systemctl` command lines without `--`.
        problem = machine_name_problem(self.name)
        if problem is None and self.zone is not None:
            problem = interface_name_problem(f"vz-{self.zone}")
        if problem is not None:
            raise ValueError(f"container {self.name!r}: {problem}")

    @property
    def unit(self) -> str:
        """The systemd unit that runs the container."""
        return f"systemd-nspawn@{self.name}.service"

    @property
    def host_interface(self) -> str | None:
        """The host-side network interface facing this container, or None without one."""
        if self.zone is not None:
            return f"vz-{self.zone}"
        if self.veth:
            return f"ve-{self.name}"
        return None


@dataclass(frozen=True)
class Topology:
    """All containers of the host, plus the few host facts that differ between test tiers.

    ``store_path``: the read-only store bind inside containers (``/nix/store`` on NixOS).
    ``root_skeleton``: names allowed at the top of ``/var/lib/machines/<name>`` on the host.
    The NixOS module leaves that directory empty (the default); the runtime tier's Debian
    containers keep a small skeleton there (``etc``, ``usr`` mount point, ...) and list it.
    """

    containers: tuple[Container, ...]
    store_path: str = STORE
    root_skeleton: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.store_path.startswith("/"):
            raise ValueError(f"store path {self.store_path!r} is not absolute")

    def container(self, name: str) -> Container:
        """The container called ``name``; KeyError names the known ones."""
        for container in self.containers:
            if container.name == name:
                return container
        known = ", ".join(c.name for c in self.containers) or "none"
        raise KeyError(f"no container {name!r} in the topology (known: {known})")

    @property
    def names(self) -> tuple[str, ...]:
        """Container names, in declaration order."""
        return tuple(c.name for c in self.containers)
