"""The send pipeline through the real Opus encoder (and RED, echo canceller
once they are in the engine)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media.frame import AudioFrame
from cloudlink.media.rtp_payload import RtpPayload
from cloudlink.media.send_pipeline import SendPipeline
from cloudlink.media.synthetic import SilenceSource, ToneSource, speech_source


def _pipeline(**options: object) -> SendPipeline:
    defaults: dict[str, object] = {
        "sample_rate_hz": 16000,
        "initial_sequence_number": 65534,
        "initial_timestamp": (1 << 32) - 960,
    }
    defaults.update(options)
    return SendPipeline(**defaults)  # type: ignore[arg-type]


def _send(pipeline: SendPipeline, frames: list[AudioFrame]) -> list[RtpPayload]:
    payloads = [p for frame in frames for p in pipeline.process(frame)]
    return payloads + pipeline.flush()


def test_one_payload_per_20_ms_with_wrapping_numbers() -> None:
    frames = list(ToneSource(sample_rate_hz=16000, duration_s=0.1))
    payloads = _send(_pipeline(), frames)
    assert len(payloads) == 5
    assert [p.sequence_number for p in payloads] == [65534, 65535, 0, 1, 2]
    # 48 kHz timestamps whatever the coded rate (RFC 7587), wrapping at 2^32.
    assert [p.timestamp for p in payloads] == [(1 << 32) - 960, 0, 960, 1920, 2880]
    assert [p.marker for p in payloads] == [True, False, False, False, False]
    assert {p.payload_type for p in payloads} == {111}


def test_payloads_decode_back_to_the_speech() -> None:
    frames = list(speech_source("alice"))[:200]
    pipeline = _pipeline()
    decoder = _native.OpusDecoder(sample_rate_hz=16000)
    decoded = np.concatenate([decoder.decode(p.payload) for p in _send(pipeline, frames)])
    sent = np.concatenate([f.samples for f in frames]).astype(np.float64)
    # Decoded sample n + lookahead is sent sample n.
    heard = decoded[pipeline.lookahead_samples :].astype(np.float64)[: len(sent) - 400]
    sent = sent[: len(heard)]
    snr_db = 10 * np.log10(np.sum(sent**2) / np.sum((sent - heard) ** 2))
    assert snr_db > 5.0


def test_flush_pads_a_half_packet() -> None:
    frames = list(ToneSource(sample_rate_hz=16000, duration_s=0.03))
    pipeline = _pipeline()
    assert len([p for f in frames for p in pipeline.process(f)]) == 1
    assert len(pipeline.flush()) == 1
    assert pipeline.flush() == []


def test_dtx_stops_sending_in_silence_and_marks_the_restart() -> None:
    silence = list(SilenceSource(sample_rate_hz=16000, duration_s=2.0))
    tone = list(ToneSource(sample_rate_hz=16000, duration_s=0.2))
    pipeline = _pipeline(dtx=True)
    payloads = _send(pipeline, tone + silence + tone)
    assert pipeline.packets_suppressed > 50
    assert len(payloads) < 60
    restart = [p for p in payloads[1:] if p.marker]
    assert restart, "the talkspurt after DTX carries the marker bit"
    # Time runs on through the silence, sequence numbers do not.
    index = payloads.index(restart[-1])
    gap = (payloads[index].timestamp - payloads[index - 1].timestamp) % (1 << 32)
    assert gap > 960
    assert (payloads[index].sequence_number - payloads[index - 1].sequence_number) % 65536 == 1


def test_packetize_works_from_asyncio() -> None:
    source = ToneSource(sample_rate_hz=16000, duration_s=0.1)

    async def collect() -> list[RtpPayload]:
        return [p async for p in _pipeline().packetize(source)]

    assert len(asyncio.run(collect())) == 5


def test_red_carries_the_previous_packet() -> None:
    frames = list(ToneSource(sample_rate_hz=16000, duration_s=0.06))
    plain = _send(_pipeline(), frames)
    red = _send(_pipeline(red_payload_type=63), frames)
    assert {p.payload_type for p in red} == {63}
    first = _native.red_unpack(red[0].payload)
    assert [(pt, offset) for pt, offset, _ in first] == [(111, 0)]
    second = _native.red_unpack(red[1].payload)
    assert [(pt, offset) for pt, offset, _ in second] == [(111, 960), (111, 0)]
    assert second[0][2] == plain[0].payload
    assert second[1][2] == plain[1].payload


def test_echo_canceller_removes_what_is_played() -> None:
    # The microphone hears only the far end, 12 dB down: after the canceller
    # converges, what is sent is far quieter than that echo.
    pipeline = _pipeline(echo_canceller=_native.EchoCanceller(sample_rate_hz=16000))
    decoder = _native.OpusDecoder(sample_rate_hz=16000)
    echo_energy = sent_energy = 0.0
    for index, frame in enumerate(list(speech_source("bob"))[:800]):
        pipeline.render(frame)
        echo = (frame.samples // 4).astype(np.int16)
        payloads = pipeline.process(AudioFrame(echo, 16000, frame.timestamp_samples))
        if index >= 400:
            echo_energy += float(np.sum(echo.astype(np.float64) ** 2))
            for payload in payloads:
                sent = decoder.decode(payload.payload).astype(np.float64)
                sent_energy += float(np.sum(sent**2))
        else:
            for payload in payloads:
                decoder.decode(payload.payload)
    assert 10 * np.log10(echo_energy / max(sent_energy, 1.0)) > 10.0


@pytest.mark.parametrize(
    "options",
    [
        {"sample_rate_hz": 44100},
        {"frame_ms": 15},
        {"payload_type": 128},
        {"red_payload_type": -1},
        {"red_payload_type": 111},
        {"bitrate_bps": 1},
        {"channels": 3},
    ],
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _pipeline(**options)


def test_frames_of_another_format_are_refused() -> None:
    with pytest.raises(ConfigError, match="16000 Hz x 1"):
        _pipeline().process(AudioFrame.silence(sample_rate_hz=48000))


def test_descriptor_fields_are_checked() -> None:
    with pytest.raises(ConfigError):
        RtpPayload(sequence_number=1 << 16, timestamp=0, payload_type=111, payload=b"x")
    with pytest.raises(ConfigError):
        RtpPayload(sequence_number=0, timestamp=-1, payload_type=111, payload=b"x")
    with pytest.raises(ConfigError):
        RtpPayload(sequence_number=0, timestamp=0, payload_type=200, payload=b"x")
