"""The client IP is taken from X-Forwarded-For by trusted proxy hops, from the right."""

import pytest

from realtime.client_ip import UNKNOWN_IP, client_ip, rate_limit_key


@pytest.mark.parametrize(
    ("forwarded_for", "hops", "expected"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # first entry forged by the client
        ("198.51.100.1, 203.0.113.7, 10.0.0.5", 2, "203.0.113.7"),  # API Gateway, then an ALB
        ("203.0.113.7", 2, "203.0.113.7"),  # shorter chain than configured: nothing forged
        ("2001:db8::1", 1, "2001:db8::1"),
        ("not-an-ip", 1, UNKNOWN_IP),
        (" , ", 1, "192.0.2.10"),  # nothing usable: the peer address
    ],
)
def test_client_ip(forwarded_for, hops, expected):
    assert client_ip(forwarded_for, "192.0.2.10", hops) == expected


def test_no_header_falls_back_to_the_peer():
    assert client_ip("", "192.0.2.10", 1) == "192.0.2.10"
    assert client_ip("", "", 1) == UNKNOWN_IP


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("203.0.113.7", 64, "203.0.113.7"),
        ("::ffff:203.0.113.7", 64, "203.0.113.7"),  # IPv4-mapped: the IPv4 client
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::"),
        ("2001:db8:1:2ff:aaaa::1", 56, "2001:db8:1:200::"),
        ("2001:db8::1", 128, "2001:db8::1"),
    ],
)
def test_the_rate_limit_key_of_an_address(address, prefix, key):
    assert rate_limit_key(address, prefix) == key
