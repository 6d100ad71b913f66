from __future__ import annotations

import pytest

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.rtc import header_extensions as ext


@pytest.mark.parametrize(("level", "voice"), [(0, True), (30, False), (127, True)])
def test_audio_level_round_trip(level: int, voice: bool) -> None:
    data = ext.audio_level(level, voice=voice)
    assert len(data) == 1
    assert ext.parse_audio_level(data) == (level, voice)


def test_audio_level_layout_is_rfc_6464() -> None:
    assert ext.audio_level(5, voice=True) == b"\x85"
    with pytest.raises(ConfigError):
        ext.audio_level(128, voice=False)


@pytest.mark.parametrize("time_ms", [0.0, 1.0, 12_345.678, 63_999.0])
def test_abs_send_time_round_trip(time_ms: float) -> None:
    # 6.18 fixed point: resolution 1/262144 s, about 3.8 µs.
    assert ext.abs_send_time_ms(ext.abs_send_time(time_ms)) == pytest.approx(time_ms, abs=0.004)


def test_abs_send_time_wraps_every_64_s() -> None:
    assert ext.abs_send_time(64_000.0 + 5.0) == ext.abs_send_time(5.0)
    later = ext.abs_send_time_ms(ext.abs_send_time(64_010.0))
    earlier = ext.abs_send_time_ms(ext.abs_send_time(63_990.0))
    assert ext.abs_send_time_delta_ms(later, earlier) == pytest.approx(20.0, abs=0.01)
    assert ext.abs_send_time_delta_ms(earlier, later) == pytest.approx(-20.0, abs=0.01)


def test_transport_sequence_round_trip() -> None:
    assert ext.transport_sequence(0x1_2345) == b"\x23\x45"
    assert ext.parse_transport_sequence(b"\xff\xfe") == 0xFFFE


def test_elements_survive_a_native_rtp_packet() -> None:
    ids = ext.HeaderExtensionIds()
    packet = _native.RtpPacket(
        payload_type=111,
        ssrc=1,
        payload=b"opus",
        extensions={
            ids.audio_level: ext.audio_level(40, voice=True),
            ids.abs_send_time: ext.abs_send_time(1500.0),
            ids.transport_sequence: ext.transport_sequence(77),
        },
    )
    parsed = _native.RtpPacket.parse(packet.serialize())
    assert parsed.two_byte_extensions is False
    assert ext.parse_audio_level(parsed.get_extension(ids.audio_level) or b"") == (40, True)
    assert ext.parse_transport_sequence(parsed.get_extension(ids.transport_sequence) or b"") == 77


@pytest.mark.parametrize("ids", [(15, 2, 3), (1, 1, 3), (-1, 2, 3)])
def test_bad_ids_are_refused(ids: tuple[int, int, int]) -> None:
    with pytest.raises(ConfigError):
        ext.HeaderExtensionIds(*ids)


def test_the_mid_element_is_its_token_and_off_by_default() -> None:
    assert ext.sdes_mid("1") == b"1"
    assert ext.HeaderExtensionIds().mid == 0
    for bad in ("", "x" * 17):
        with pytest.raises(ConfigError):
            ext.sdes_mid(bad)
    with pytest.raises(ConfigError):
        ext.HeaderExtensionIds(mid=3)  # the transport-wide sequence's id
