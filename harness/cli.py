"""``python -m harness list [--json] | validate [FILES] | render [--check] | show NAME |
history [--flaky]``.

``show NAME --format svg`` prints the scenario's topology as an SVG picture.

Bad scenario files are user errors: they are printed as ``file:line: key: message`` (all of
them, for every file) and the exit status is 1, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from harness import catalogue, settings
from harness.catalogue import Loaded, RootNotFound, generated_path
from harness.render import check_reference, diagram
from harness.run import history
from harness.run.build import current_system
from harness.scenario.model import ScenarioError, Step, UserCode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Validate, render and inspect nixos-nspawn scenario files.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="repository root (default: nearest directory with flake.nix and a scenario "
        "directory: scenarios/ unless pyproject.toml's [tool.nixos-nspawn] says otherwise)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the scenarios with their descriptions")
    listing.add_argument(
        "--json",
        action="store_true",
        help="one line of JSON for a CI matrix: per scenario its name, file, "
        "system and flake attribute",
    )
    listing.add_argument(
        "--system",
        default=None,
        help="the system of the flake attributes (default: this machine's)",
    )
    validate = commands.add_parser("validate", help="validate scenario files, print all errors")
    validate.add_argument(
        "files", nargs="*", type=Path, help="scenario files (default: the whole catalogue)"
    )
    render = commands.add_parser(
        "render", help="write the generated test (nix/tests/<name>.nix) of every scenario"
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail with a diff if a generated file is stale",
    )
    show = commands.add_parser(
        "show", help="show a scenario's machines, and its steps and expectations in order"
    )
    show.add_argument("name", help="scenario name (file stem)")
    show.add_argument(
        "--format",
        choices=("text", "svg"),
        default="text",
        help="text (default), or the topology as an SVG picture",
    )
    past = commands.add_parser(
        "history",
        help="each expectation's pass rate over the recorded runs (.nixos-nspawn/history.jsonl), "
        "and which ones flake",
    )
    past.add_argument("--flaky", action="store_true", help="show only the flaky expectations")
    return parser


def _print_errors(loaded: Loaded, out: TextIO) -> None:
    for error in loaded.errors:
        print(error, file=out)


@dataclass(frozen=True)
class CiJob:
    """One CI job: a scenario's VM test, as the flake attribute ``nix build .#ATTR`` takes."""

    name: str
    file: str
    system: str
    attr: str


def _ci_jobs(root: Path, loaded: Loaded, system: str) -> list[CiJob]:
    chosen = settings.load(root)
    return [
        CiJob(
            name=scenario.name,
            file=scenario.path.relative_to(root).as_posix(),
            system=system,
            attr=chosen.check_attr(system, scenario.name),
        )
        for scenario in loaded.scenarios
    ]


def _cmd_list(root: Path, out: TextIO, as_json: bool, system: str | None) -> int:
    loaded = catalogue.load_all(catalogue.scenario_files(root))
    if as_json:
        jobs = _ci_jobs(root, loaded, system or current_system())
        print(json.dumps([asdict(job) for job in jobs]), file=out)
    else:
        for scenario in loaded.scenarios:
            first_line = scenario.description.strip().split("\n", 1)[0]
            print(f"{scenario.name}\t{first_line}", file=out)
    _print_errors(loaded, sys.stderr)
    return 1 if loaded.errors else 0


def _cmd_validate(root: Path, files: list[Path], out: TextIO) -> int:
    everything = catalogue.scenario_files(root)
    loaded = catalogue.load_all(files or everything, everything)
    _print_errors(loaded, out)
    if loaded.errors:
        return 1
    print(f"{len(loaded.scenarios)} scenario(s) valid", file=out)
    return 0


def _cmd_render(root: Path, check: bool, out: TextIO) -> int:
    status = _render_reference(root, check, out)
    loaded = catalogue.load_all(catalogue.scenario_files(root))
    if loaded.errors:
        _print_errors(loaded, out)
        return 1
    try:
        return _render_loaded(root, loaded, check, out) or status
    except ScenarioError as error:  # a value without a Nix form that validation missed
        for problem in error.errors:
            print(problem, file=out)
        return 1


def _render_reference(root: Path, check: bool, out: TextIO) -> int:
    """Refresh (or, with ``check``, compare) the check reference of docs/scenarios.md; a
    page without the reference's markers is not the harness's to write."""
    path = root / check_reference.README
    if not path.is_file():
        return 0
    text = path.read_text(encoding="utf-8")
    if check_reference.BEGIN not in text:
        return 0
    try:
        fresh = check_reference.updated(text)
    except check_reference.MarkersMissing as error:
        print(error, file=out)
        return 1
    if fresh == text:
        return 0
    name = check_reference.README.as_posix()
    if check:
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            fresh.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
        print("".join(diff), file=out, end="")
        print(f"{name}: check reference out of date: run `python -m harness render`", file=out)
        return 1
    path.write_text(fresh, encoding="utf-8")
    print(f"wrote {name}", file=out)
    return 0


def _render_loaded(root: Path, loaded: Loaded, check: bool, out: TextIO) -> int:
    if check:
        found = catalogue.drift(root, loaded.scenarios)
        for item in found:
            print(item.diff(root), file=out, end="")
        if found:
            print(
                f"{len(found)} generated file(s) out of date: run `python -m harness render`",
                file=out,
            )
            return 1
        return 0
    for item in catalogue.write(root, loaded.scenarios):
        verb = "removed" if item.expected is None else "wrote"
        print(f"{verb} {item.path.relative_to(root).as_posix()}", file=out)
    leftover = catalogue.drift(root, loaded.scenarios)
    for item in leftover:
        print(f"not generated by the harness, left alone: {item.path}", file=out)
    return 1 if leftover else 0


def _user_code(user: UserCode) -> list[str]:
    """``imports a, b`` and ``modules c``: what a machine takes from the user's repository."""
    return [
        f"{what} {', '.join(items)}"
        for what, items in (
            ("imports", [item.written for item in user.imports]),
            ("modules", list(user.modules)),
        )
        if items
    ]


def _cmd_show(root: Path, name: str, out: TextIO, svg: bool = False) -> int:
    everything = catalogue.scenario_files(root)
    found = [path for path in everything if path.stem == name]
    if not found:
        known = ", ".join(sorted(p.stem for p in everything))
        print(f"no scenario {name!r} (known: {known})", file=out)
        return 1
    path = found[0]
    loaded = catalogue.load_all([path], everything)
    if loaded.errors:
        _print_errors(loaded, out)
        return 1
    (scenario,) = loaded.scenarios
    if svg:
        out.write(diagram.topology_svg(scenario))
        return 0
    print(f"{scenario.name}: {scenario.description}", file=out)
    print(f"  file: {path.relative_to(root).as_posix()}", file=out)
    print(f"  test: {generated_path(root, scenario).relative_to(root).as_posix()}", file=out)
    if scenario.host.user:
        print(f"  host: {'; '.join(_user_code(scenario.host.user))}", file=out)
    for container in scenario.containers:
        network = (
            f"zone {container.veth.zone}"
            if container.veth.zone
            else "veth"
            if container.veth.enable is not False
            else "no network"
        )
        binds = ", ".join(bind.path for bind in container.binds) or "no binds"
        about = "; ".join([network, binds, *_user_code(container.user)])
        print(f"  container {container.name}: {about}", file=out)
    for node in scenario.nodes:
        about = "; ".join(_user_code(node.user))
        print(f"  node {node.name}" + (f": {about}" if about else ""), file=out)
    for specialisation in scenario.host.specialisations:
        changed = ", ".join(specialisation.containers) or "no containers"
        print(f"  specialisation {specialisation.name}: {changed}", file=out)
    for entry in scenario.program:
        kind = "step" if isinstance(entry, Step) else "expect"
        where = f" (line {entry.line})" if entry.line is not None else ""
        print(f"  {kind}{where}: {entry.id}", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns the exit status."""
    stream = out if out is not None else sys.stdout
    args = _parser().parse_args(argv)
    try:
        root = catalogue.find_root(args.root if args.root is not None else Path.cwd())
        return _run(root, args, stream)
    except RootNotFound as error:
        print(error, file=stream)
    except settings.SettingsError as error:
        for problem in error.errors:
            print(problem, file=stream)
    return 1


def _run(root: Path, args: argparse.Namespace, stream: TextIO) -> int:
    if args.command == "list":
        return _cmd_list(root, stream, args.json, args.system)
    if args.command == "validate":
        return _cmd_validate(root, args.files, stream)
    if args.command == "render":
        return _cmd_render(root, args.check, stream)
    if args.command == "history":
        for line in history.report(history.summarise(history.read(root)), args.flaky):
            print(line, file=stream)
        return 0
    return _cmd_show(root, args.name, stream, svg=args.format == "svg")
