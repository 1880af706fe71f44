"""A scenario run's timeline as a static SVG picture: one row per record, on one time axis.

The records are those the testScript wrote (:mod:`harness.checks.result`): each VM's boot, each
container's start, each step and each expectation, placed by their ``started`` and ``ended``
times on the test driver's clock (t = 0 is the earliest start). A failed record is drawn red and
marked ``✗``; the record a report item is about (``current``) gets a highlighted row.

As the topology picture (:mod:`harness.render.diagram`), the picture is plain SVG: no script,
no style sheet, no external reference, every text XML-escaped, widths estimated for a monospace
font; each bar's ``<title>`` (a tooltip, no script) holds its verdict and times.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from harness.checks.result import BOOT, CHECK, CONTAINER, STEP, Result

FONT = "ui-monospace, DejaVu Sans Mono, Menlo, Consolas, monospace"
FONT_SIZE = 11
CHAR_WIDTH = 6.7
"""Width of one character of an 11 px monospace font, rounded up."""
ROW = 18
BAR = 12
GAP = 12
AXIS = 24
"""Height of the time axis under the rows."""
PLOT_WIDTH = 560
LABEL_CHARS = 48
"""Labels longer than this are cut (the tooltip has the whole id)."""
TICKS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
"""Tick spacings (seconds) to choose from: the smallest that gives at most eight ticks."""

FILLS = {BOOT: "#8c9bab", CONTAINER: "#5b8fd1", STEP: "#9a7bc4", CHECK: "#4f9e6a"}
FAILED_FILL = "#d04a3f"
CURRENT_FILL = "#fff3bf"
TEXT = "#1b2733"
GRID = "#d5dbe2"
NAMES = {BOOT: "boot", CONTAINER: "container start", STEP: "step", CHECK: "expectation"}


def timeline_svg(records: Sequence[Result], current: str | None = None, title: str = "") -> str:
    """The SVG document of ``records`` (those without times are left out, a record written
    twice, as by two sessions that saw the same container start, is drawn once), the record
    with id ``current`` highlighted; an empty picture that says so when no record has times."""
    unique = {
        (r.kind, r.id, r.started, r.ended): r
        for r in records
        if r.started is not None and r.ended is not None
    }
    timed = sorted(
        (
            (r.started, r.ended, r)
            for r in unique.values()
            if r.started is not None and r.ended is not None
        ),
        key=lambda timed: timed[:2],
    )
    label_width = max([len(_label(r)) for _, _, r in timed] or [20]) * CHAR_WIDTH + GAP
    width = label_width + PLOT_WIDTH + 2 * GAP
    heading = f"Timeline of {title}" if title else "Timeline"
    parts = [_text(GAP, GAP + 10, heading, bold=True)]
    top = GAP + ROW
    if not timed:
        parts.append(_text(GAP, top + 12, "no record of this run has times"))
        return _document(width, top + ROW + GAP, heading, parts)
    origin = timed[0][0]
    span = max(max(ended for _, ended, _ in timed) - origin, 1.0)
    scale = PLOT_WIDTH / span
    plot_left = GAP + label_width
    rows_bottom = top + ROW * len(timed)
    step = next((t for t in TICKS if span / t <= 8), TICKS[-1])
    for index in range(math.floor(span / step) + 1):
        x = plot_left + index * step * scale
        parts.append(_line(x, top, x, rows_bottom + 4, GRID))
        parts.append(_text(x, rows_bottom + 16, f"{index * step:g} s", anchor="middle"))
    for index, (started, ended, record) in enumerate(timed):
        y = top + ROW * index
        if record.id == current:
            parts.append(_rect(GAP / 2, y, width - GAP, ROW, CURRENT_FILL))
        label = _label(record)
        verdict = "passed" if record.ok else "FAILED"
        summary = record.message.split("\n", 1)[0]
        tooltip = (
            f"{NAMES.get(record.kind, record.kind)} {record.id}: {verdict}, "
            f"{started - origin:.1f} s to {ended - origin:.1f} s ({ended - started:.1f} s)"
            + (f"\n{summary}" if summary else "")
        )
        parts.append(_text(GAP, y + 13, label, bold=not record.ok, fill=_fill(record)))
        x = plot_left + (started - origin) * scale
        bar = max((ended - started) * scale, 2.0)
        parts.append(
            f'<rect x="{x:.1f}" y="{y + (ROW - BAR) / 2:.1f}" width="{bar:.1f}" '
            f'height="{BAR}" rx="2" fill="{_fill(record)}" data-kind={quoteattr(record.kind)} '
            f'data-ok="{str(record.ok).lower()}"><title>{escape(tooltip)}'
            "</title></rect>"
        )
    parts.append(_line(plot_left, rows_bottom + 4, plot_left + PLOT_WIDTH, rows_bottom + 4, TEXT))
    return _document(width, rows_bottom + AXIS + GAP, heading, parts)


def _label(record: Result) -> str:
    mark = "✓" if record.ok else "✗"
    text = f"{mark} {record.id}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _fill(record: Result) -> str:
    return FILLS.get(record.kind, FILLS[CHECK]) if record.ok else FAILED_FILL


def _text(
    x: float,
    y: float,
    text: str,
    *,
    bold: bool = False,
    anchor: str = "start",
    fill: str = TEXT,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{weight}>'
        f"{escape(text)}</text>"
    )


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"/>'


def _document(width: float, height: float, heading: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={quoteattr(heading)} '
        f'font-family={quoteattr(FONT)} font-size="{FONT_SIZE}">'
        f"<title>{escape(heading)}</title>" + "".join(parts) + "</svg>\n"
    )
