"""Who a request comes from, for rate limits: the client's address, and the key it is counted under.

The socket peer is the client unless it is a trusted reverse proxy; then `X-Forwarded-For` is read from
the right (the hop the proxy itself saw) past every trusted proxy, and the first address that is not one
is the client. A header from anyone else is ignored: it is whatever the client chose to write.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# An IPv6 client usually holds a whole /64 (one per household or server), so counting single addresses
# would give it 2^64 budgets. Mastodon counts IPv6 per /64 too.
IPV6_PREFIX = 64
UNKNOWN = "unknown"


def parse_networks(csv: str) -> tuple[Network, ...]:
    """`"10.0.0.1, 10.1.0.0/16, fd00::/8"` → networks; a ValueError names a malformed entry."""
    networks = []
    for entry in (part.strip() for part in csv.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"Not an IP address or network: {entry!r}") from exc
    return tuple(networks)


# Parsed once per distinct text: a busy server sees the same few proxies and clients again and again.
@functools.lru_cache(maxsize=4096)
def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:443"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]) -> str:
    """The client's IP address as text (`UNKNOWN` when the socket has none)."""
    current = _address(peer) if peer else None
    if current is None:
        return UNKNOWN
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    while hops and _trusted(current, trusted_proxies):
        hop = _address(hops.pop())
        if hop is None:  # a garbled entry: the last address we can vouch for is the client
            break
        current = hop
    return str(current)


@functools.lru_cache(maxsize=4096)
def rate_key(address: str) -> str:
    """The key an address is counted under: itself for IPv4, its /64 network for IPv6."""
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)
