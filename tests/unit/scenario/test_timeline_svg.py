"""The run's timeline picture: one bar per timed record, on one axis, static and escaped."""

import re
import xml.etree.ElementTree as ET

from harness.checks.result import Result
from harness.render.timeline import FAILED_FILL, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


def record(id_: str, kind: str, start: float, seconds: float, ok: bool = True) -> Result:
    return Result(
        id_, id_.split("[")[0], ok, f"{id_} said so", {}, seconds, kind, start, start + seconds
    )


RECORDS = [
    record("unit-active[web]", "check", 1040.0, 2.0),
    record("boot[host]", "boot", 1000.0, 30.0),
    record("container[web]", "container", 1028.0, 6.0),
    record("restart[web]", "step", 1042.0, 10.0),
    record("reachable[host->web,ipv4]", "check", 1052.0, 8.0, ok=False),
    Result("untimed", "command", True, "", {}, 0.0),
]


def bars(svg: str) -> list[ET.Element]:
    return [rect for rect in ET.fromstring(svg).iter(f"{SVG}rect") if rect.get("data-kind")]


def test_each_timed_record_is_a_bar_in_start_order_on_one_axis():
    svg = timeline_svg(RECORDS, title="demo")
    found = bars(svg)
    assert [b.find(f"{SVG}title").text.split(":")[0] for b in found] == [
        "boot boot[host]",
        "container start container[web]",
        "expectation unit-active[web]",
        "step restart[web]",
        "expectation reachable[host->web,ipv4]",
    ]
    xs = [float(b.get("x")) for b in found]
    widths = [float(b.get("width")) for b in found]
    # 60 s span: boot from 0 for 30 s takes half the plot, the failed check ends at its end.
    assert abs(widths[0] / (xs[4] + widths[4] - xs[0]) - 0.5) < 0.01
    assert "0 s to 30.0 s (30.0 s)" in found[0].find(f"{SVG}title").text
    assert found[4].get("fill") == FAILED_FILL
    assert found[4].get("data-ok") == "false"


def test_the_current_record_is_highlighted_and_failures_marked():
    svg = timeline_svg(RECORDS, current="restart[web]")
    assert svg.count('fill="#fff3bf"') == 1
    assert "✗ reachable[host-&gt;web,ipv4]" in svg
    assert "✓ boot[host]" in svg
    assert timeline_svg(RECORDS).count('fill="#fff3bf"') == 0


def test_picture_is_static_escaped_and_deterministic():
    hostile = [record('x[<script>alert("x")</script>]', "check", 0.0, 1.0)]
    svg = timeline_svg(hostile, title="<b>&")
    ET.fromstring(svg)  # well-formed
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "Timeline of &lt;b&gt;&amp;" in svg
    assert not re.search(r"\bhref=|\bon\w+=|<style|<foreignObject", svg)
    assert timeline_svg(RECORDS) == timeline_svg(list(reversed(RECORDS)))


def test_without_timed_records_the_picture_says_so():
    svg = timeline_svg([Result("x", "command", True, "", {}, 0.0)])
    assert bars(svg) == []
    assert "no record of this run has times" in svg


def test_a_record_written_twice_is_drawn_once():
    again = record("container[web]", "container", 1028.0, 6.0)
    assert len(bars(timeline_svg([*RECORDS, again]))) == len(bars(timeline_svg(RECORDS))) == 5
