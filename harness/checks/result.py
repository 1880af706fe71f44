"""Results of expectations, and the evidence that explains them.

A result is what the pytest plugin and a human reading a failed ``nix build`` log both see, so
it carries its evidence: the commands that were run, on which node, with exit status and output
(as pytest-testinfra shows them), plus the facts a check derived from them.
"""

import json
from dataclasses import asdict, dataclass

MAX_VALUE_CHARS = 4000
"""Evidence values are cut to this size: a runaway output must not bloat the JSONL file."""


@dataclass(frozen=True)
class Result:
    """The outcome of one expectation (the JSON record of contract (1))."""

    id: str
    check: str
    ok: bool
    message: str
    evidence: dict[str, str]
    seconds: float

    def to_json(self) -> str:
        """One line of JSON, keys in contract order.

        ASCII only, so a reader that treats U+2028, U+2029 or U+0085 as line breaks (as
        ``str.splitlines`` does) cannot cut a record in two.
        """
        return json.dumps(asdict(self), ensure_ascii=True, separators=(", ", ": "))


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


class Evidence:
    """An ordered record of what a check ran and found.

    Commands are keyed ``"<node>$ <command>"`` so that a repeated (polled) command keeps only its
    last attempt; facts are keyed by a short name such as ``"uid_map base"``.
    """

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def command(self, node: str, command: str, status: int, output: str, note: str = "") -> None:
        """Record a command run on ``node`` with its exit status and output."""
        head = f"exit {status}" + (f" ({note})" if note else "")
        body = output.rstrip("\n")
        self._items[f"{node}$ {command}"] = clip(f"{head}\n{body}" if body else head)

    def fact(self, key: str, value: str) -> None:
        """Record something the check derived (an address, a uid_map line, a marker path)."""
        self._items[key] = clip(value)

    def as_dict(self) -> dict[str, str]:
        return dict(self._items)


def render(evidence: dict[str, str]) -> str:
    """Evidence as an indented block for a failure message."""
    if not evidence:
        return "evidence: none"
    lines = ["evidence:"]
    for key, value in evidence.items():
        lines.append(f"  {key}")
        lines.extend(f"    | {line}" for line in value.splitlines() or [""])
    return "\n".join(lines)
