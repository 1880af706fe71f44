"""The escape hatch: any command on the host or in a container."""

from collections.abc import Mapping

from .nodes import ContainerNode, Context, Failure, Output
from .result import clip
from .spec import HOST, CheckSpec, Param, Params

MAX_WITHIN = 3600
"""Longest retry window (seconds) of a ``command`` check or a ``run`` step."""

LABEL_CHARS = 40
"""Commands longer than this are cut in the expectation id."""


def check_command(ctx: Context, p: Params) -> str:
    on, run, status = p.text("on"), p.text("run"), p.integer("exit")
    expected_output = p.opt_text("output")
    node = ctx.node(on)
    if isinstance(node, ContainerNode):
        node.wait_booted()
    within = p.opt_integer("within")
    if within is None:
        out = node.run(run, timeout=ctx.timeout)
    else:
        out, _ = node.run_until(run, lambda o: _holds(o, status, expected_output), timeout=within)
    problems = []
    if out.status != status:
        problems.append(f"exit status {out.status}, expected {status}")
    if expected_output is not None and expected_output not in out.text:
        problems.append(f"output {clip(out.text.strip(), 300)!r} lacks {expected_output!r}")
    if problems:
        after = f" (for {within}s)" if within is not None else ""
        raise Failure(f"`{run}` on {on}{after}: " + "; ".join(problems))
    return f"`{run}` on {on} exited {status}" + (
        f" with {expected_output!r} in its output" if expected_output is not None else ""
    )


def _holds(out: Output, status: int, expected_output: str | None) -> bool:
    return out.status == status and (expected_output is None or expected_output in out.text)


def run_label(params: Mapping[str, object]) -> str:
    run = " ".join(str(params["run"]).split())
    if len(run) > LABEL_CHARS:
        run = run[: LABEL_CHARS - 1] + "…"
    return f"{params['on']}:{run}"


COMMAND = CheckSpec(
    name="command",
    doc="`run` (a sh command line) on `on` exits with `exit` and prints `output` (a substring "
    "of stdout and stderr), retried for `within` seconds when given. In a container it runs "
    "as root, once the container has booted.",
    params=(
        Param("on", str, default=HOST, node=True, doc="host or a container"),
        Param("run", str, required=True, doc="sh command line"),
        Param("exit", int, default=0, bounds=(0, 255), doc="expected exit status"),
        Param("output", str, doc="substring the output must contain"),
        Param(
            "within",
            int,
            bounds=(1, MAX_WITHIN),
            doc="retry until the expectation holds, for at most this many seconds",
        ),
    ),
    label=run_label,
)
