"""A first round trip through the Opus binding, kept as the build's smoke test."""

from __future__ import annotations

import numpy as np
import pytest

from cloudlink import _native
from cloudlink.errors import CodecError


def test_sine_round_trip_keeps_its_energy() -> None:
    encoder = _native.OpusEncoder(sample_rate_hz=48000, frame_ms=20)
    decoder = _native.OpusDecoder(sample_rate_hz=48000)
    t = np.arange(48000) / 48000
    signal = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    decoded = [decoder.decode(encoder.encode(f)) for f in signal.reshape(-1, 960)]
    out = np.concatenate(decoded).astype(np.float64)
    # Skip the first 100 ms while the codec settles.
    ratio = np.sqrt(np.mean(out[4800:] ** 2) / np.mean(signal[4800:].astype(np.float64) ** 2))
    assert 0.8 < ratio < 1.2


def test_garbage_packet_raises_codec_error() -> None:
    decoder = _native.OpusDecoder()
    with pytest.raises(CodecError, match="malformed"):
        decoder.decode(b"\xff\xff\xff")
