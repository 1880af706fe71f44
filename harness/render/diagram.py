"""A scenario's topology as a static SVG picture: the host, its containers and how each is wired.

What is drawn is what the module makes of the scenario: a container with a link of its own has
the veth pair ``ve-<name>`` (host) and ``host0`` (container); the containers of a zone share
the bridge ``vz-<zone>``, on which each has the port ``vb-<name>``; a container without a veth
link has only loopback. Further VM nodes of the test sit on the test network with the host.
Forwarded ports have no scenario key (a scenario sets ``forwardPorts`` in Nix code), so only a
hand-made :class:`Topology` shows them (the manual's wiring picture).

The picture is plain SVG: no script, no style sheet, no external reference, every text
XML-escaped, and the same input always gives the same bytes (the manual's pictures are
generated files checked for freshness, and the run report embeds them). Text widths are
estimated for a monospace font, so no font metrics are needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from harness.scenario.model import Scenario

FONT = "ui-monospace, DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 12
CHAR_WIDTH = 7.3
"""Width of one character of a 12 px monospace font, rounded up (DejaVu Sans Mono: 7.22)."""
LINE = 16
PAD = 10
GAP = 24
"""Space between two columns, and around the picture."""
TAG_HEIGHT = 20
LINK = 44
"""Vertical length of a veth link between the host's end and the container's ``host0``."""
MIN_BOX = 110
NETWORK_LABEL = "test network (eth1)"

HOST_FILL = "#eef1f5"
CONTAINER_FILL = "#dcebfa"
NODE_FILL = "#fbf3d5"
TAG_FILL = "#ffffff"
BRIDGE_FILL = "#3b4a5a"
STROKE = "#3b4a5a"


@dataclass(frozen=True)
class Port:
    """A forwarded port: ``protocol`` ``host_port`` on the host's addresses to the container's
    ``container_port``."""

    protocol: str
    host_port: int
    container: str
    container_port: int


@dataclass(frozen=True)
class Guest:
    """A container as the picture shows it: its link (``linked``, and the ``zone`` whose bridge
    it joins) and the paths bound into it (with `` (ro)`` for read-only ones)."""

    name: str
    linked: bool = True
    zone: str | None = None
    binds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    """What a picture shows: its title (for screen readers), the host's label, the containers
    in order, further VM nodes, forwarded ports."""

    title: str
    host: str
    containers: tuple[Guest, ...]
    nodes: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()


def topology(scenario: Scenario) -> Topology:
    """The picture's content for a validated scenario."""
    return Topology(
        title=f"Topology of {scenario.name}",
        host=f"host: {scenario.name}",
        containers=tuple(
            Guest(
                name=container.name,
                linked=container.veth.enable is not False,
                zone=container.veth.zone if container.veth.enable is not False else None,
                binds=tuple(
                    bind.path + (" (ro)" if bind.read_only else "") for bind in container.binds
                ),
            )
            for container in scenario.containers
        ),
        nodes=tuple(node.name for node in scenario.nodes),
    )


def topology_svg(scenario: Scenario) -> str:
    """The scenario's topology as a standalone SVG document (stable interface: the run report
    and the manual's scenario pages use it)."""
    return svg(topology(scenario))


def _width(text: str) -> int:
    return math.ceil(len(text) * CHAR_WIDTH)


@dataclass(frozen=True)
class _Column:
    """A run of containers drawn side by side: one container, or the containers of a zone."""

    zone: str | None
    guests: tuple[Guest, ...]


def _columns(guests: tuple[Guest, ...]) -> list[_Column]:
    """Containers in order, the members of a zone gathered where the zone first appears."""
    columns: list[_Column] = []
    seen: set[str] = set()
    for guest in guests:
        if guest.zone is None:
            columns.append(_Column(None, (guest,)))
        elif guest.zone not in seen:
            seen.add(guest.zone)
            members = tuple(g for g in guests if g.zone == guest.zone)
            columns.append(_Column(guest.zone, members))
    return columns


def _host_end(guest: Guest) -> str:
    return f"vb-{guest.name}" if guest.zone is not None else f"ve-{guest.name}"


def _box_lines(guest: Guest) -> list[str]:
    binds = [f"bind {path}" for path in guest.binds]
    if not guest.linked:
        return [guest.name, "no network", *binds]
    return [guest.name, *binds]


def _guest_width(guest: Guest) -> int:
    texts = [*_box_lines(guest), "host0", _host_end(guest)]
    return max(MIN_BOX, *(_width(text) + 2 * PAD for text in texts))


def _text(x: float, y: float, text: str, *, bold: bool = False, anchor: str = "middle") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{weight}>{escape(text)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str, radius: int = 4) -> str:
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="{radius}" '
        f'fill="{fill}" stroke="{STROKE}"/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{STROKE}"/>'


def _tag(center: float, top: float, label: str) -> Iterator[str]:
    """An interface: a small box with its name."""
    width = _width(label) + PAD
    yield _rect(center - width / 2, top, width, TAG_HEIGHT, TAG_FILL, radius=2)
    yield _text(center, top + 14, label)


def _port_text(port: Port) -> str:
    return f"forwarded {port.protocol} :{port.host_port} → {port.container}:{port.container_port}"


def svg(picture: Topology) -> str:
    """The SVG document of ``picture``."""
    columns = _columns(picture.containers)
    widths = [[_guest_width(guest) for guest in column.guests] for column in columns]
    column_widths = [
        max(sum(ws) + GAP * (len(ws) - 1), _width(f"vz-{c.zone}") + 2 * PAD if c.zone else 0)
        for c, ws in zip(columns, widths, strict=True)
    ]
    host_lines = [picture.host, *(_port_text(port) for port in picture.ports)]
    zone_count = sum(1 for column in columns if column.zone is not None)
    node_widths = [max(MIN_BOX, _width(f"node {n}") + 2 * PAD) for n in picture.nodes]

    content_width = max(
        sum(column_widths) + GAP * max(len(columns) - 1, 0),
        max((_width(line) for line in host_lines), default=0) + 2 * PAD,
        sum(node_widths) + GAP * max(len(node_widths) - 1, 0),
        2 * (_width(NETWORK_LABEL) + PAD) if picture.nodes else 0,
    )
    width = content_width + 2 * GAP
    parts: list[str] = []
    y = GAP

    # The test network: further VM nodes on a line with the host.
    if picture.nodes:
        x = GAP
        for name, node_width in zip(picture.nodes, node_widths, strict=True):
            parts.append(_rect(x, y, node_width, 2 * LINE, NODE_FILL))
            parts.append(_text(x + node_width / 2, y + LINE + 4, f"node {name}"))
            parts.append(_line(x + node_width / 2, y + 2 * LINE, x + node_width / 2, y + 3 * LINE))
            x += node_width + GAP
        y += 3 * LINE
        middle = GAP + content_width / 2
        parts.append(_line(GAP, y, GAP + content_width, y))
        parts.append(_line(middle, y, middle, y + 2 * LINE))
        parts.append(_text(middle + PAD, y + LINE + 4, NETWORK_LABEL, anchor="start"))
        y += 2 * LINE

    # The host, with its forwarded ports, the zone bridges and the host ends of the links.
    host_top = y
    bridge_top = host_top + PAD + LINE * len(host_lines) + PAD
    ends_top = bridge_top + (LINE + 2 * PAD if zone_count else 0)
    host_height = ends_top + TAG_HEIGHT + PAD - host_top
    parts.append(_rect(GAP, host_top, content_width, host_height, HOST_FILL, radius=6))
    for index, line in enumerate(host_lines):
        parts.append(
            _text(
                GAP + PAD, host_top + PAD + LINE * index + 12, line, bold=index == 0, anchor="start"
            )
        )

    guests_top = ends_top + TAG_HEIGHT + LINK
    box_bottom = guests_top
    x = GAP
    for column, guest_widths, column_width in zip(columns, widths, column_widths, strict=True):
        if column.zone is not None:
            parts.append(_rect(x, bridge_top, column_width, LINE + 2, BRIDGE_FILL, radius=2))
            parts.append(
                f'<text x="{x + column_width / 2:g}" y="{bridge_top + 13:g}" '
                f'text-anchor="middle" fill="#ffffff">{escape(f"vz-{column.zone}")}</text>'
            )
        guest_x = x + (column_width - sum(guest_widths) - GAP * (len(guest_widths) - 1)) / 2
        for guest, guest_width in zip(column.guests, guest_widths, strict=True):
            center = guest_x + guest_width / 2
            lines = _box_lines(guest)
            top = guests_top
            if guest.linked:
                if column.zone is not None:
                    parts.append(_line(center, bridge_top + LINE + 2, center, ends_top))
                parts.extend(_tag(center, ends_top, _host_end(guest)))
                parts.append(_line(center, ends_top + TAG_HEIGHT, center, guests_top))
            height = TAG_HEIGHT + PAD + LINE * len(lines) + PAD
            parts.append(_rect(guest_x, top, guest_width, height, CONTAINER_FILL))
            if guest.linked:
                parts.extend(_tag(center, top - TAG_HEIGHT / 2, "host0"))
            for index, line in enumerate(lines):
                parts.append(
                    _text(center, top + TAG_HEIGHT + PAD + LINE * index + 4, line, bold=index == 0)
                )
            box_bottom = max(box_bottom, top + height)
            guest_x += guest_width + GAP
        x += column_width + GAP

    height = box_bottom + GAP
    title = picture.title
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label={quoteattr(title)} '
        f'font-family={quoteattr(FONT)} font-size="{FONT_SIZE}" fill="#1b2733">'
        f"<title>{escape(title)}</title>" + "".join(parts) + "</svg>\n"
    )
