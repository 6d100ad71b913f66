"""The mixer: sums streams, limits softly, measures each stream's level."""

from __future__ import annotations

import numpy as np
import pytest

from cloudlink.errors import ConfigError
from cloudlink.media.frame import AudioFrame
from cloudlink.media.mixer import Mixer
from cloudlink.media.synthetic import ToneSource


def _frame(value: int, rate_hz: int = 16000) -> AudioFrame:
    return AudioFrame(np.full(rate_hz // 100, value, np.int16), rate_hz)


def test_quiet_streams_add_exactly() -> None:
    mixer = Mixer(sample_rate_hz=16000)
    mixed = mixer.mix({"a": _frame(1000), "b": _frame(-300), "c": _frame(2000)})
    assert (mixed.samples == 2700).all()
    assert mixed.timestamp_samples == 0
    assert mixer.mix({"a": _frame(0)}).timestamp_samples == 160


def test_loud_overlap_is_limited_softly_without_wrapping() -> None:
    mixer = Mixer(sample_rate_hz=16000, knee_dbfs=-6.0)
    values = [12000, 16000, 20000, 25000, 30000]
    outputs = [int(mixer.mix({"a": _frame(v), "b": _frame(v)}).samples[0]) for v in values]
    # Sums of 24000..60000 stay below full scale and keep their order.
    assert all(0 < out < 32767 for out in outputs)
    assert outputs == sorted(outputs)
    assert outputs[0] > 16384  # just above the knee, little is taken
    negative = int(mixer.mix({"a": _frame(-30000), "b": _frame(-30000)}).samples[0])
    assert negative == -outputs[-1]


def test_levels_follow_each_stream() -> None:
    mixer = Mixer(sample_rate_hz=16000)
    tone = list(ToneSource(level_dbfs=-6.0, sample_rate_hz=16000, duration_s=0.5))
    silence = AudioFrame.silence(sample_rate_hz=16000)
    for frame in tone:
        mixer.mix({"talker": frame, "muted": silence})
    # A sine's RMS is 3 dB below its peak.
    assert mixer.levels_dbov["talker"] == pytest.approx(-9.0, abs=1.5)
    assert mixer.levels_dbov["muted"] <= -90.0
    assert mixer.audio_level("muted") >= 90
    assert mixer.audio_level("talker") == pytest.approx(9, abs=2)
    mixer.remove("muted")
    assert "muted" not in mixer.levels_dbov


def test_stereo_mix() -> None:
    mixer = Mixer(sample_rate_hz=48000, channels=2)
    frame = AudioFrame.silence(sample_rate_hz=48000, channels=2)
    assert mixer.mix({"a": frame, "b": frame}).samples.shape == (480, 2)


def test_streams_of_another_format_are_refused() -> None:
    mixer = Mixer(sample_rate_hz=16000)
    with pytest.raises(ConfigError, match="'b'"):
        mixer.mix({"a": _frame(0), "b": _frame(0, 48000)})
    with pytest.raises(ConfigError):
        Mixer(sample_rate_hz=16000, knee_dbfs=0.0)
    with pytest.raises(ConfigError):
        Mixer(sample_rate_hz=16000, channels=5)
