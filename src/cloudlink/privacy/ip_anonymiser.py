"""IP address anonymisation, applied before an address reaches any table or log.

IPv4 addresses keep their /24 network, IPv6 addresses their /48 (the prefix
a site is usually assigned), so the host part that identifies a person's
device is dropped while the network, which places a quality problem, stays.
An IPv4-mapped IPv6 address is treated as the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress
from typing import Final

__all__ = ["IPV4_PREFIX_BITS", "IPV6_PREFIX_BITS", "anonymise_ip"]

IPV4_PREFIX_BITS: Final = 24
IPV6_PREFIX_BITS: Final = 48


def anonymise_ip(address: str | None) -> str | None:
    """Returns the anonymised network of ``address`` ("198.51.100.0/24"), None when unparseable."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = IPV4_PREFIX_BITS if ip.version == 4 else IPV6_PREFIX_BITS
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))
