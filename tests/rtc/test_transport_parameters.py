"""The JSON form of transport parameters that signaling carries: what one
side gathers reads back the same, and anything malformed is refused with
one error code."""

from __future__ import annotations

from typing import Any

import pytest

from cloudlink.errors import InvalidRequestError
from cloudlink.rtc.transport import Transport, TransportParameters


async def test_gathered_parameters_survive_the_json_form() -> None:
    transport = Transport(loopback=True)
    try:
        gathered = await transport.gather()
        form = gathered.to_json()
        read = TransportParameters.from_json(form)
        assert read.ice.usernameFragment == gathered.ice.usernameFragment
        assert read.ice.password == gathered.ice.password
        assert [f.value for f in read.dtls.fingerprints] == [
            f.value for f in gathered.dtls.fingerprints
        ]
        assert [(c.ip, c.port) for c in read.candidates] == [
            (c.ip, c.port) for c in gathered.candidates
        ]
        assert any(c.ip == "127.0.0.1" for c in read.candidates)
        assert read.to_json() == form
    finally:
        await transport.close()


_GOOD: dict[str, Any] = {
    "ice": {"usernameFragment": "abcd", "password": "p" * 22},
    "dtls": {"fingerprints": [{"algorithm": "sha-256", "value": "AB:CD"}]},
    "candidates": ["candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"],
}


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {},
        {**_GOOD, "ice": "x"},
        {**_GOOD, "ice": {"usernameFragment": "", "password": "x"}},
        {**_GOOD, "dtls": {"fingerprints": []}},
        {**_GOOD, "dtls": {"fingerprints": [{"algorithm": 1, "value": "x"}]}},
        {**_GOOD, "candidates": "candidate:1"},
        {**_GOOD, "candidates": ["candidate:garbage"]},
        {**_GOOD, "candidates": ["candidate:1 1 udp 1 127.0.0.1 notaport typ host"]},
        {**_GOOD, "candidates": ["candidate:1 1 sctp 1 127.0.0.1 5000 typ host"]},
        {**_GOOD, "candidates": _GOOD["candidates"] * 33},
        {**_GOOD, "candidates": ["candidate:" + "x" * 600]},
    ],
)
def test_malformed_parameters_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        TransportParameters.from_json(bad)
    assert raised.value.code == "invalid_transport"


def test_the_good_form_reads() -> None:
    read = TransportParameters.from_json(_GOOD)
    assert read.candidates[0].port == 5000
