"""``harness.render.diagram``: a scenario's topology as static SVG, true to the scenario, safe to
inline in a page (no script, no external reference, every text escaped) and deterministic."""

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.catalogue import find_root, load_all, scenario_files
from harness.cli import main
from harness.render.diagram import Guest, Port, Topology, svg, topology_svg
from harness.scenario.load import load_scenario

ROOT = find_root(Path(__file__))
SVG = "{http://www.w3.org/2000/svg}"
CATALOGUE = load_all(scenario_files(ROOT)).scenarios


def parsed(document: str) -> ET.Element:
    root = ET.fromstring(document)
    assert root.tag == f"{SVG}svg"
    return root


def texts(document: str) -> list[str]:
    return [element.text or "" for element in parsed(document).iter(f"{SVG}text")]


def scenario(tmp_path: Path, toml: str):
    first = re.findall(r"^\[containers\.(\w+)\]", toml, re.M)[0]
    path = tmp_path / "picture.toml"
    path.write_text(
        f'description = "x"\n{toml}\n[[expect]]\ncheck = "unit-active"\ncontainer = "{first}"\n'
    )
    return load_scenario(path)


@pytest.mark.parametrize("loaded", CATALOGUE, ids=lambda s: s.name)
def test_every_catalogue_picture_is_static_and_inside_its_frame(loaded) -> None:
    document = topology_svg(loaded)
    root = parsed(document)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    for element in root.iter():
        assert element.tag.removeprefix(SVG) in {"svg", "title", "rect", "line", "text"}
        assert not any("href" in name or name.startswith("on") for name in element.attrib)
        if element.tag == f"{SVG}rect":
            x, y = float(element.get("x", "-1")), float(element.get("y", "-1"))
            assert x >= 0
            assert y >= 0
            assert x + float(element.get("width", "0")) <= width
            assert y + float(element.get("height", "0")) <= height
    assert "http" not in document.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert topology_svg(loaded) == document
    for container in loaded.containers:
        assert container.name in texts(document)


def test_a_zone_is_a_bridge_with_a_port_per_member(tmp_path: Path) -> None:
    document = topology_svg(
        scenario(
            tmp_path,
            '[containers.a]\nconfig = "{ }"\nnetwork.veth.zone = "lab"\n'
            '[containers.solo]\nconfig = "{ }"\n'
            '[containers.b]\nconfig = "{ }"\nnetwork.veth.zone = "lab"\n',
        )
    )
    shown = texts(document)
    assert shown.count("vz-lab") == 1
    assert {"vb-a", "vb-b", "ve-solo"} <= set(shown)
    assert "ve-a" not in shown
    assert "vb-solo" not in shown
    assert shown.count("host0") == 3
    # The zone's members stand side by side: b is drawn before solo.
    assert shown.index("vb-b") < shown.index("ve-solo")


def test_a_container_without_veth_has_no_link(tmp_path: Path) -> None:
    document = topology_svg(
        scenario(
            tmp_path,
            '[containers.alone]\nconfig = "{ }"\nnetwork.veth.enable = false\n'
            '[containers.alone.binds."/var/lib/x"]\nreadOnly = true\n',
        )
    )
    shown = texts(document)
    assert "no network" in shown
    assert "host0" not in shown
    assert "ve-alone" not in shown
    assert "bind /var/lib/x (ro)" in shown


def test_nodes_sit_on_the_test_network(tmp_path: Path) -> None:
    document = topology_svg(
        scenario(tmp_path, '[nodes.client]\nconfig = "{ }"\n[containers.web]\nconfig = "{ }"\n')
    )
    assert {"node client", "test network (eth1)", "host: picture"} <= set(texts(document))


def test_every_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & ]]>'
    document = svg(
        Topology(
            title=hostile,
            host=f"host: {hostile}",
            containers=(Guest(name=hostile, zone=hostile, binds=(hostile,)),),
            nodes=(hostile,),
            ports=(Port("tcp", 80, hostile, 8080),),
        )
    )
    root = parsed(document)
    assert not list(root.iter(f"{SVG}script"))
    assert f"host: {hostile}" in texts(document)
    assert f"vz-{hostile}" in texts(document)
    assert f"forwarded tcp :80 → {hostile}:8080" in texts(document)
    assert root.get("aria-label") == hostile
    assert [t.text for t in root.iter(f"{SVG}title")] == [hostile]


def test_show_prints_the_picture() -> None:
    out = io.StringIO()
    assert main(["--root", str(ROOT), "show", "zones", "--format", "svg"], out=out) == 0
    (zones,) = (s for s in CATALOGUE if s.name == "zones")
    assert out.getvalue() == topology_svg(zones)
    assert re.search(r"<text[^>]*>vz-dmz</text>", out.getvalue())
