"""The client's IP address, from X-Forwarded-For, trusting only our own proxies.

Every proxy appends the address it received the request from, so the client's address is
the entry that the first trusted proxy appended: the ``hops``-th from the right. Entries
further left were written by the client and prove nothing.
"""

import ipaddress

UNKNOWN_IP = "0.0.0.0"  # noqa: S104 - a placeholder address, not a bind


def client_ip(forwarded_for: str, remote_addr: str, hops: int) -> str:
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if entries:
        # A chain shorter than expected holds no client-written entries: take its first.
        candidate = entries[-hops] if len(entries) >= hops else entries[0]
    else:
        candidate = remote_addr
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return UNKNOWN_IP


def rate_limit_key(address: str, ipv6_prefix: int) -> str:
    """The address the connect rate limit counts: an IPv4 address as it is (also when written
    IPv4-mapped, ``::ffff:a.b.c.d``), an IPv6 address as its network's first address, so every
    address of one ``/ipv6_prefix`` (a subscriber's /64) shares one limit."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{ipv6_prefix}", strict=False).network_address)
    return str(ip)
