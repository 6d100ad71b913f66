"""IP anonymisation: IPv4 to /24, IPv6 to /48, mapped IPv4 as IPv4, junk to None."""

from __future__ import annotations

import pytest

from cloudlink.privacy.ip_anonymiser import anonymise_ip


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("198.51.100.77", "198.51.100.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_anonymise_ip(address: str | None, expected: str | None) -> None:
    assert anonymise_ip(address) == expected
