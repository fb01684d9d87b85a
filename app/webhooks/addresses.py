"""Which addresses a webhook may be sent to: only public ones, so an endpoint URL cannot make our
workers reach this machine, the cloud metadata service or the private network (SSRF).

A URL is checked twice. When it is saved (`check_url`), literal addresses and local names are
refused. When a delivery is sent (`checked_addresses`), the name is resolved and every address it
resolves to must be public; the sender then connects to one of those addresses itself, so a DNS
answer that changes in between (rebinding) is never used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import unquote, urlsplit

import httpx

from app.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Ranges that `is_global` (as of Python 3.11) still calls global, or that are not safe to reach.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",  # shared (carrier-grade NAT) space: not global, yet not is_private either
        "fec0::/10",  # deprecated site-local
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment-routing SIDs (RFC 9602)
        # Refused outright rather than decoded: where a local-use NAT64 prefix puts the IPv4
        # address depends on the operator, and a Teredo peer sits behind a relay and a NAT.
        "64:ff9b:1::/48",
        "2001::/32",
    )
)
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
# An IPv4 part as inet_aton() and the WHATWG URL parser read it: hex, octal (leading 0) or decimal.
_IPV4_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_ALLOW_HINT = "set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it in development"


class AddressRefused(ValueError):
    """A webhook URL or the address it resolves to may not be used; `str()` says why, for users."""


def is_public(address: Address) -> bool:
    """Whether `address` is reachable on the public internet and nothing else: not loopback,
    private, link-local, shared (CGNAT), multicast, reserved, documentation or benchmark space, and
    no IPv6 form that leads to such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False  # a zone id only means something for link-local scopes
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            # ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach a.b.c.d (DNS64 networks give every IPv4-only
            # receiver such an address), so they are exactly as public as it is.
            return is_public(embedded)
        if address in _IPV4_COMPATIBLE:
            return False  # deprecated (RFC 4291), never routed; includes :: and ::1
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    return (
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not any(address in network for network in _NEVER_PUBLIC)
    )


def check_url(url: str) -> str:
    """An endpoint URL as it may be saved (the rules users see), else AddressRefused saying why."""
    allow_private = get_settings().webhook_allow_private_networks
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        # httpx (the sender) refuses some spellings of addresses, like 0177.0.0.1; say what the
        # address is when that is the better reason.
        address = literal_address(_host_as_written(url))
        if address is not None and not allow_private and not is_public(address):
            raise AddressRefused(f"{address} is not a public address; {_ALLOW_HINT}") from None
        raise AddressRefused(f"is not a valid URL ({error})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise AddressRefused("must be an absolute http or https URL")
    if parsed.userinfo:
        raise AddressRefused("must not contain a user name or password")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise AddressRefused("must name a port between 1 and 65535")
    if get_settings().is_production and parsed.scheme != "https":
        raise AddressRefused("must use https")
    address = literal_address(parsed.host)
    if address is not None:
        if not allow_private and not is_public(address):
            raise AddressRefused(f"{parsed.host} is not a public address; {_ALLOW_HINT}")
        return url
    name = parsed.raw_host.decode("ascii").lower().removesuffix(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise AddressRefused(f"{parsed.host} is not a valid host name")
    if not allow_private and _is_local_name(name):
        raise AddressRefused(f"{parsed.host} is a local name, not a public one; {_ALLOW_HINT}")
    return url


async def resolve(host: str, port: int) -> list[str]:
    """The addresses DNS gives for `host`, in order, without repeats (raises socket.gaierror)."""
    answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


async def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses a delivery to `host` may connect to, in preference order: a literal address
    as itself, a name as it resolves now. AddressRefused when any of them is not public (a name
    answering one private address among public ones is refused too), or when there are none."""
    allow_private = get_settings().webhook_allow_private_networks
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    else:
        name = host.lower().removesuffix(".")
        if not allow_private and _is_local_name(name):
            raise AddressRefused(f"{host} is a local name, not a public one; {_ALLOW_HINT}")
        found = [ipaddress.ip_address(answer) for answer in await resolve(host, port)]
        if not found:
            raise AddressRefused(f"{host} does not resolve")
    if not allow_private:
        for address in found:
            if not is_public(address):
                raise AddressRefused(f"{host} resolves to {address}, which is not public; {_ALLOW_HINT}")
    return [str(address) for address in found]


def literal_address(host: str) -> Address | None:
    """`host` (as a URL spells it) read as an address, in every spelling a URL parser or the OS
    resolver accepts (`[::1]`, `127.1`, `2130706433`, `0x7f.0.0.1`, percent-encoded...), or None
    for a name. A host that looks numeric but is no valid address is refused, not sent to DNS."""
    text = unquote(host).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            raise AddressRefused(f"{host} is not a valid IPv6 address") from None
    text = text.lower().removesuffix(".")
    parts = text.split(".")
    if not _NUMERIC_LABEL.fullmatch(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        raise AddressRefused(f"{host} is not a valid IPv4 address")
    numbers = [_ipv4_part(part) for part in parts]
    *leading, last = numbers
    # inet_aton(): the last part fills the bytes the others leave, so 127.1 is 127.0.0.1.
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise AddressRefused(f"{host} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _host_as_written(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _is_local_name(name: str) -> bool:
    # A name without a dot is looked up in the machine's search domains (Kubernetes services,
    # corporate hosts), never in public DNS.
    return "." not in name or name == "localhost" or name.endswith(_LOCAL_SUFFIXES)


def _ipv4_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    return int(part, 8 if part.startswith("0") else 10)
