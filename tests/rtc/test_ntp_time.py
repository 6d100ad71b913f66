from __future__ import annotations

import pytest

from cloudlink.rtc.ntp_time import ntp_timestamp, round_trip_time_ms


def test_ntp_epoch_offset() -> None:
    assert ntp_timestamp(0.0) == 2_208_988_800 << 32
    assert ntp_timestamp(0.5) & 0xFFFFFFFF == 1 << 31


def test_round_trip_time_is_a_minus_lsr_minus_dlsr() -> None:
    # RFC 3550 section 6.4.1: SR sent at t, held 250 ms by the peer,
    # the report block arrives at t + 300 ms: 50 ms round trip.
    sent = ntp_timestamp(1000.0)
    last_sr = (sent >> 16) & 0xFFFFFFFF
    dlsr = int(0.250 * 65536)
    rtt = round_trip_time_ms(ntp_timestamp(1000.300), last_sr, dlsr)
    assert rtt == pytest.approx(50.0, abs=0.05)


def test_no_sr_echoed_means_no_rtt() -> None:
    assert round_trip_time_ms(ntp_timestamp(5.0), 0, 0) is None


def test_a_negative_rtt_is_clamped() -> None:
    sent = ntp_timestamp(1000.0)
    last_sr = (sent >> 16) & 0xFFFFFFFF
    assert round_trip_time_ms(ntp_timestamp(1000.1), last_sr, int(0.2 * 65536)) == 0.0
