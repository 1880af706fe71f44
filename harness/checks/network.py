"""Network checks: reachable, unreachable, address, http, tcp.

Addresses are looked up on the nodes themselves, never guessed from configuration:

* a container's address is on its ``host0`` interface (global scope for ipv4/ipv6, the
  ``fe80::`` address for link-local);
* the host's address, seen from a container, is the container's default gateway for ipv4, and
  for ipv6 the global address of the host-side interface (``ve-<name>`` or ``vz-<zone>``) that
  shares a prefix with the container's. ``ip addr show ve-<name>`` alone is not enough: systemd
  252 puts two pool addresses on it, and only one serves the container;
* a link-local address gets the ``%interface`` scope of the *sending* side: ``host0`` in a
  container, ``ve-<name>``/``vz-<zone>`` on the host.

By name (``by = "name"``) the checks ping the target's host name and let the sender's resolver
do its job: the host resolves container names through ``nss-mymachines`` (NixOS enables it by
default; Debian needs ``libnss-mymachines``); a container resolves single-label names of the
host and of its zone peers through systemd-resolved's LLMNR, which networkd enables on every link
by default. By mDNS (``by = "mdns"``) they ask for ``<host name>.local``, which only
systemd-resolved's multicast DNS answers: the module enables it on both ends of every container
link, so the host and a container, and the containers of one zone, find each other so.
"""

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from .names import interface_name_problem
from .nodes import (
    VM_INTERFACE,
    Context,
    Failure,
    IfAddr,
    Node,
    Output,
    parse_addresses,
    parse_gateway,
)
from .result import clip
from .spec import HOST, CheckSpec, Param, Params, Problem, address_problem, cidr_problem

FAMILIES = ("ipv4", "ipv6", "link-local")
PING_WAIT = 2
"""Seconds a single ping waits for its reply (``ping -W``)."""
UNREACHABLE_PINGS = 3
"""Echo requests (one a second) that must all go unanswered for ``unreachable`` to pass."""
CONNECT_TIMEOUT = 10
"""Seconds one TCP connection or HTTP request may take."""

LOOPBACK = {"ipv4": "127.0.0.1", "ipv6": "::1", "link-local": "::1"}


def host_interface(ctx: Context, container: str) -> str:
    """The host-side interface facing ``container``; a Failure if it has no private link."""
    interface = ctx.topology.container(container).host_interface
    if interface is None:
        raise Failure(
            f"container {container} has neither a veth link nor a zone: there is no "
            f"host-side interface to reach it through"
        )
    return interface


def container_address(ctx: Context, name: str, family: str) -> IfAddr:
    """The first ``family`` address on a container's ``host0``, waiting for it."""
    host_interface(ctx, name)  # fail fast for containers without a private link
    found = ctx.container(name).wait_addresses("host0", family)
    if not found:
        raise Failure(f"container {name} has no {family} address on host0 (waited {ctx.timeout}s)")
    ctx.evidence.fact(f"{name} host0 {family}", ", ".join(str(a.interface) for a in found))
    return found[0]


def host_address_from(ctx: Context, container: str, family: str) -> str:
    """The host's ``family`` address as seen from ``container`` (see the module docstring)."""
    interface = host_interface(ctx, container)
    host = ctx.host()
    if family == "link-local":
        found = host.wait_addresses(interface, "link-local")
        if not found:
            raise Failure(f"host has no link-local address on {interface}")
        return found[0].ip
    mine = container_address(ctx, container, family).interface.network
    node = ctx.container(container)
    route = f"ip {'-4' if family == 'ipv4' else '-6'} route show default"

    def attempt() -> str | None:
        if family == "ipv4":
            gateway = parse_gateway(node.run(route).text)
            if gateway is not None:
                return gateway
        out = host.run(
            f"ip {'-4' if family == 'ipv4' else '-6'} -o addr show dev "
            f"{shlex.quote(interface)} scope global"
        )
        same = [a.ip for a in parse_addresses(out.text) if a.interface.ip in mine]
        return same[0] if same else None

    address, seconds = ctx.poll(attempt)
    if address is None:
        raise Failure(
            f"cannot tell the host's {family} address from {container}: no default gateway and "
            f"no address on the host's {interface} in {container}'s network {mine} "
            f"(after {seconds:.0f}s); give `address` to use a literal one"
        )
    return address


def vm_address(ctx: Context, name: str, family: str) -> str:
    """A VM's (the host's or another node's) ``family`` address on the test network."""
    node = ctx.node(name)
    found = node.wait_addresses(VM_INTERFACE, family)
    if not found:
        raise Failure(f"{name} has no {family} address on {VM_INTERFACE} (the test network)")
    ctx.evidence.fact(f"{name} {VM_INTERFACE} {family}", ", ".join(str(a.interface) for a in found))
    return found[0].ip


def resolve(ctx: Context, src: str, dst: str, family: str) -> str:
    """The address ``src`` should use to reach ``dst`` (with ``%scope`` for link-local)."""
    if src == dst:
        return LOOPBACK[family]
    vms = (HOST, *ctx.machines)
    if dst in ctx.machines or (dst == HOST and src in ctx.machines):
        # The test network: a container reaches it through the host (routed, masqueraded).
        address = vm_address(ctx, dst, family)
        if family == "link-local":
            if src not in vms:
                raise Failure(f"{src} has no link to {dst}: link-local addresses stay on a link")
            address = f"{address}%{VM_INTERFACE}"
        ctx.evidence.fact("target address", address)
        return address
    if src in ctx.machines and family == "link-local":
        raise Failure(f"{src} has no link to {dst}: link-local addresses stay on a link")
    if dst == HOST:
        address = host_address_from(ctx, src, family)
        scope = "host0"
    else:
        address = container_address(ctx, dst, family).ip
        scope = host_interface(ctx, dst) if src == HOST else "host0"
    if family == "link-local":
        address = f"{address}%{scope}"
    ctx.evidence.fact("target address", address)
    return address


MDNS_DOMAIN = ".local"
"""The domain that multicast DNS answers (RFC 6762); ``by = "mdns"`` asks for ``<name>.local``."""

BY = ("address", "name", "mdns")
"""How a check finds its target: the looked-up address, the host name, or the mDNS name."""


def target(ctx: Context, p: Params) -> str:
    """What to ping: the literal ``address``, the target's name, or its looked-up address."""
    literal = p.opt_text("address")
    if literal is not None:
        return literal
    if p.text("by") != "address":
        return _node_name(ctx, p.text("to"), p.text("by"))
    return resolve(ctx, p.text("from"), p.text("to"), p.text("family"))


def _node_name(ctx: Context, name: str, by: str) -> str:
    """The name to resolve (``by`` "name" or "mdns"): a container's machine name, or the host's
    own host name; with ``.local`` for mDNS."""
    suffix = MDNS_DOMAIN if by == "mdns" else ""
    if name != HOST:
        return name + suffix
    out = ctx.host().run("uname -n")
    if not out.ok or not out.text.strip():
        raise Failure("cannot read the host's name with `uname -n`")
    return out.text.strip() + suffix


def ping(family: str, address: str, count: int = 1) -> str:
    interval = f" -i 1 -w {count + PING_WAIT}" if count > 1 else ""
    flag = "-4" if family == "ipv4" else "-6"
    return f"ping {flag} -n -c {count}{interval} -W {PING_WAIT} {shlex.quote(address)}"


def wait_settled(src: Node, family: str) -> None:
    """For ``unreachable`` from a container: wait until it has its ``family`` address on
    host0, so that silence means isolation and not a network still coming up. (The target's
    side is settled by looking up its address.)"""
    if src.link is not None:
        src.wait_addresses(src.link, family)


def check_reachable(ctx: Context, p: Params) -> str:
    src, dst, family = p.text("from"), p.text("to"), p.text("family")
    address = target(ctx, p)
    node = ctx.node(src)
    out, ok = node.run_until(ping(family, address), lambda o: o.ok)
    if not ok:
        raise Failure(
            f"expected {src} to reach {dst} at {address} ({family}); no echo reply "
            f"within {ctx.timeout}s, last ping exited {out.status}"
        )
    return f"{src} reached {dst} at {address} ({family})"


def check_unreachable(ctx: Context, p: Params) -> str:
    src, dst, family = p.text("from"), p.text("to"), p.text("family")
    node = ctx.node(src)
    wait_settled(node, family)
    address = target(ctx, p)
    out = node.run(ping(family, address, UNREACHABLE_PINGS))
    if out.ok:
        raise Failure(
            f"expected {src} not to reach {dst} at {address} ({family}), but it got an echo reply"
        )
    why = "no echo reply" if out.status == 1 else f"ping failed with exit {out.status}"
    return f"{src} did not reach {dst} at {address} ({family}): {why} to {UNREACHABLE_PINGS} pings"


def check_address(ctx: Context, p: Params) -> str:
    name, interface, prefix = p.text("node"), p.text("interface"), p.opt_text("prefix")
    node = ctx.node(name)
    where = f"{name}:{interface}"
    if prefix is not None:
        network = ipaddress.ip_network(prefix, strict=False)
        command = f"ip -o addr show dev {shlex.quote(interface)}"

        def inside(o: Output) -> bool:
            return o.ok and any(a.interface.ip in network for a in parse_addresses(o.text))

        out, ok = node.run_until(command, inside)
        seen = _addresses_seen(out)
        if not ok:
            raise Failure(f"expected an address in {network} on {where}; saw {seen}")
        hits = [str(a.interface) for a in parse_addresses(out.text) if a.interface.ip in network]
        return f"{where} holds {', '.join(hits)} in {network}"
    command = f"ip -4 -o addr show dev {shlex.quote(interface)}"
    out, ok = node.run_until(
        command, lambda o: o.ok and any(a.dynamic for a in parse_addresses(o.text))
    )
    node.run(f"networkctl status --no-pager {shlex.quote(interface)}")  # evidence only
    if not ok:
        raise Failure(
            f"expected a DHCP lease (an ipv4 address flagged dynamic) on {where}; "
            f"saw {_addresses_seen(out)}"
        )
    leases = [str(a.interface) for a in parse_addresses(out.text) if a.dynamic]
    return f"{where} holds {', '.join(leases)} from a DHCP lease (flagged dynamic by the kernel)"


def _addresses_seen(out: Output) -> str:
    if not out.ok:
        return f"no such interface or no answer (exit {out.status}: {out.text.strip()})"
    found = parse_addresses(out.text)
    described = [f"{a.interface}{' dynamic' if a.dynamic else ''}" for a in found]
    return ", ".join(described) or "no address"


TCP_SCRIPT = 'exec 3<>"/dev/tcp/$1/$2"'
HTTP_SCRIPT = (
    'exec 3<>"/dev/tcp/$1/$2" && '
    'printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" "$3" "$4" >&3 && '
    "cat <&3"
)
"""Bash's ``/dev/tcp`` instead of curl: bash and coreutils' ``timeout`` are on every NixOS
system and every Debian, curl is not. HTTP/1.0 keeps the response free of chunked encoding."""


def bash(script: str, *args: object) -> str:
    quoted = " ".join(shlex.quote(str(a)) for a in args)
    return f"timeout {CONNECT_TIMEOUT} bash -c {shlex.quote(script)} bash {quoted}"


def check_tcp(ctx: Context, p: Params) -> str:
    src, dst, port = p.text("from"), p.text("to"), p.integer("port")
    address = resolve(ctx, src, dst, "ipv4")
    out, ok = ctx.node(src).run_until(bash(TCP_SCRIPT, address, port), lambda o: o.ok)
    if not ok:
        raise Failure(
            f"expected {src} to connect to {dst} at {address}:{port}/tcp; last attempt exited "
            f"{out.status} ({out.text.strip() or 'no output'})"
        )
    return f"{src} connected to {dst} at {address}:{port}/tcp"


STATUS_RE = re.compile(r"^HTTP/\d(?:\.\d)? (\d{3})\b")


@dataclass(frozen=True)
class Response:
    """A raw HTTP response split into its status code (None if unparseable) and body."""

    status: int | None
    body: str

    @classmethod
    def parse(cls, raw: str) -> "Response":
        head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
        match = STATUS_RE.match(head)
        return cls(int(match[1]) if match else None, body)


def check_http(ctx: Context, p: Params) -> str:
    src, dst, port, path = p.text("from"), p.text("to"), p.integer("port"), p.text("path")
    status, body, family = p.integer("status"), p.opt_text("body"), p.text("family")
    if p.text("by") != "address":
        address = _node_name(ctx, dst, p.text("by"))
        authority = address
    else:
        address = resolve(ctx, src, dst, family)
        authority = f"[{address}]" if ":" in address else address
    host = p.opt_text("host") or authority.replace("%", "%25")
    url = f"http://{authority}:{port}{path}" + (f" (Host: {host})" if p.opt_text("host") else "")
    request = bash(HTTP_SCRIPT, address, port, path, host)
    node = ctx.node(src)
    if not p.boolean("answer"):
        wait_settled(node, family)
        out = node.run(request)
        response = Response.parse(out.text)
        if response.status is not None:
            raise Failure(
                f"expected GET {url} from {src} to get no HTTP response; it answered "
                f"status {response.status}, body {clip(response.body)!r}"
            )
        return f"GET {url} from {src} got no HTTP response (exit {out.status})"

    def wanted(o: Output) -> bool:
        response = Response.parse(o.text)
        return response.status == status and (body is None or body in response.body)

    out, ok = node.run_until(request, wanted)
    if not ok:
        response = Response.parse(out.text)
        expected = f"status {status}" + (f" and a body containing {body!r}" if body else "")
        seen = (
            f"status {response.status}, body {clip(response.body, 200)!r}"
            if response.status is not None
            else f"no HTTP response (exit {out.status})"
        )
        raise Failure(f"expected GET {url} from {src} to answer {expected}; saw {seen}")
    return f"GET {url} from {src} answered {status}" + (
        f" with a body containing {body!r}" if body else ""
    )


def _one_of_prefix_dhcp(params: Mapping[str, object]) -> list[Problem]:
    has_prefix, dhcp = params.get("prefix") is not None, params.get("dhcp") is True
    if has_prefix == dhcp:
        return [Problem("prefix", "give exactly one of `prefix` or `dhcp = true`")]
    return cidr_problem("prefix", params.get("prefix"))


def _ping_rules(params: Mapping[str, object]) -> list[Problem]:
    problems = address_problem("address", params.get("address"))
    if params.get("from") == params.get("to"):
        problems.append(Problem("to", "`from` and `to` name the same node"))
    problems.extend(_by_rule(params))
    if params.get("by") in ("name", "mdns") and params.get("address") is not None:
        problems.append(
            Problem("address", f'`address` and by = "{params["by"]}" exclude each other')
        )
    return problems


def _by_rule(params: Mapping[str, object]) -> list[Problem]:
    if params.get("by") in ("name", "mdns") and params.get("family") == "link-local":
        return [Problem("by", 'link-local addresses have no names; use by = "address"')]
    return []


def _ping_label(params: Mapping[str, object]) -> str:
    label = f"{params['from']}->{params['to']},{params['family']}"
    if params.get("by") in ("name", "mdns"):
        label += f",{params['by']}"
    if params.get("address") is not None:
        label += f",{params['address']}"
    return label


def _ping_params() -> tuple[Param, ...]:
    return (
        Param("from", str, default=HOST, node=True, doc="node that sends the pings"),
        Param("to", str, required=True, node=True, doc="node that should (not) answer"),
        Param(
            "family",
            str,
            default="ipv4",
            choices=FAMILIES,
            doc="ipv4, ipv6 (global addresses) or link-local (fe80::, scoped to the link)",
        ),
        Param(
            "by",
            str,
            default="address",
            choices=BY,
            doc="ping the looked-up address, the target's host name via the resolver, or "
            "`<host name>.local` via multicast DNS",
        ),
        Param(
            "address",
            str,
            doc="a literal address to ping instead of looking one up (fe80::1%host0 style "
            "scopes allowed)",
        ),
    )


NAME_RESOLUTION = (
    "By name, the host resolves container names with nss-mymachines and containers resolve "
    "the host and their zone peers with systemd-resolved's LLMNR; by mDNS, systemd-resolved's "
    "multicast DNS resolves `<name>.local` on the container links (the module enables it on "
    "both ends)."
)

REACHABLE = CheckSpec(
    name="reachable",
    doc="`from` gets an echo reply from `to` (ping, repeated until the timeout while the network "
    "comes up). " + NAME_RESOLUTION,
    params=_ping_params(),
    label=_ping_label,
    rules=(_ping_rules,),
)

UNREACHABLE = CheckSpec(
    name="unreachable",
    doc=f"`from` gets no echo reply from `to` to {UNREACHABLE_PINGS} pings, sent once `from` has "
    "its address and `to`'s address is known (so silence is isolation, not a network still "
    "coming up). A name that does not resolve counts as unreachable. " + NAME_RESOLUTION,
    params=_ping_params(),
    label=_ping_label,
    rules=(_ping_rules,),
)

ADDRESS = CheckSpec(
    name="address",
    doc="An interface (`ve-<name>` or `vz-<zone>` on the host, `host0` in a container) holds an "
    "address inside `prefix`, or (dhcp = true) an ipv4 address from a DHCP lease, which the "
    "kernel flags `dynamic`; waits for it until the timeout.",
    params=(
        Param("node", str, required=True, node=True, doc="host or a container"),
        Param(
            "interface",
            str,
            required=True,
            grammar=interface_name_problem,
            doc="e.g. ve-web, vz-lab, host0",
        ),
        Param("prefix", str, doc="network in CIDR notation, e.g. 192.168.42.0/24 or fc42::/64"),
        Param("dhcp", bool, default=False, doc="expect a DHCP lease instead of a prefix"),
    ),
    label=lambda p: f"{p['node']}:{p['interface']}",
    rules=(_one_of_prefix_dhcp,),
)


def _http_rules(params: Mapping[str, object]) -> list[Problem]:
    problems = _path_rule(params)
    host = params.get("host")
    if isinstance(host, str) and (
        not host or any(c.isspace() or not c.isprintable() for c in host)
    ):
        problems.append(
            Problem(
                "host", "must be a non-empty header value without whitespace or control characters"
            )
        )
    if params.get("answer") is False and params.get("body") is not None:
        problems.append(Problem("body", "`answer = false` expects no response: no `body`"))
    problems.extend(_by_rule(params))
    return problems


def _http_label(params: Mapping[str, object]) -> str:
    label = f"{params['from']}->{params['to']}:{params['port']}{params['path']}"
    extras = [str(params["family"])] if params.get("family") != "ipv4" else []
    if params.get("by") in ("name", "mdns"):
        extras.append(str(params["by"]))
    if params.get("host") is not None:
        extras.append(f"Host={params['host']}")
    if params.get("answer") is False:
        extras.append("no answer")
    return ",".join([label, *extras])


def _path_rule(params: Mapping[str, object]) -> list[Problem]:
    path = str(params.get("path", "/"))
    if not path.startswith("/"):
        return [Problem("path", "must start with /")]
    if any(c.isspace() for c in path):
        return [Problem("path", "must not contain whitespace (percent-encode it, e.g. %20)")]
    return []


PORT_BOUNDS = (1, 65535)

_FROM = Param("from", str, default=HOST, node=True, doc="node that connects")
_TO = Param(
    "to",
    str,
    required=True,
    node=True,
    doc="node that listens (its ipv4 address is looked up as for `reachable`; "
    "from == to uses 127.0.0.1)",
)

HTTP = CheckSpec(
    name="http",
    doc="`GET http://<to's address or name>:<port><path>` from `from` answers `status` (and a "
    "body containing `body`), retried until the timeout; with `answer = false`, one request "
    "once both ends have their addresses gets no HTTP response at all. Sent as HTTP/1.0 "
    "through bash's `/dev/tcp`, so the sender needs bash and coreutils only, not curl; no "
    "TLS, no redirects.",
    params=(
        _FROM,
        _TO,
        Param("port", int, default=80, bounds=PORT_BOUNDS, doc="TCP port"),
        Param("path", str, default="/", doc="request path, starting with /"),
        Param("status", int, default=200, bounds=(100, 599), doc="expected HTTP status code"),
        Param("body", str, doc="a substring the response body must contain"),
        Param(
            "family",
            str,
            default="ipv4",
            choices=FAMILIES,
            doc="address family of `to`'s looked-up address, as for `reachable`",
        ),
        Param(
            "by",
            str,
            default="address",
            choices=BY,
            doc="connect to the looked-up address, to `to`'s host name via the resolver, or "
            "to `<host name>.local` via multicast DNS",
        ),
        Param("host", str, doc="the Host header (default: the address or name connected to)"),
        Param(
            "answer",
            bool,
            default=True,
            doc="false: expect no HTTP response at all (refused, reset or silent)",
        ),
    ),
    label=_http_label,
    rules=(_http_rules,),
)

TCP = CheckSpec(
    name="tcp",
    doc="A TCP connection from `from` to `to`'s ipv4 address and `port` succeeds (bash's "
    "/dev/tcp), retried until the timeout.",
    params=(_FROM, _TO, Param("port", int, required=True, bounds=PORT_BOUNDS, doc="TCP port")),
    label=lambda p: f"{p['from']}->{p['to']}:{p['port']}",
)
