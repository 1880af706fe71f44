"""Checks that prove nixos-nspawn containers behave, run against a host VM.

Standard library only: this package is shipped into the NixOS test driver. A testScript does::

    from harness.checks import Bind, Container, Session, Topology
    web = Container("web", zone=None, veth=True, binds=(Bind("/var/lib/web", read_only=False),))
    session = Session(host, Topology((web,)), driver.out_dir)
    session.check("reachable[host->web,ipv4]", "reachable", {"to": "web"})
    session.finish()

``CHECKS`` describes every check's TOML parameters for the scenario loader.
"""

from .machine import Clock, Machine
from .registry import CHECKS
from .result import Result
from .session import Session
from .spec import CheckSpec, Param, Problem
from .topology import Bind, Container, Topology

__all__ = [
    "CHECKS",
    "Bind",
    "CheckSpec",
    "Clock",
    "Container",
    "Machine",
    "Param",
    "Problem",
    "Result",
    "Session",
    "Topology",
]
