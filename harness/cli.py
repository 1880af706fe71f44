"""Command-line interface of the harness (placeholder until the scenario commands land)."""

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Validate, render and inspect nixos-nspawn scenario files.",
    )
    parser.parse_args(argv)
    return 0
